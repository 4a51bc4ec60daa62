"""The versions a result depends on: recorded in every run, training and compile-cache key."""

from __future__ import annotations

import platform
from importlib import metadata


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in ("interpbench", "torch", "transformer-lens", "tracr-pypi", "jax"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return found
