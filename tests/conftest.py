"""Test setup: installed third-party plugins stay out, and compiles go to a private cache."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# Built-ins only, unless a test opts in (datasette issue 438: installed plugins must
# not leak into the host's own tests). Set before interpbench loads anything.
os.environ["INTERPBENCH_PLUGINS"] = ""
os.environ.pop("INTERPBENCH_STRICT_PLUGINS", None)
os.environ.setdefault("INTERPBENCH_CACHE", str(Path(tempfile.gettempdir()) / f"interpbench-test-cache-{os.getuid()}"))

sys.path.insert(0, str(Path(__file__).parent))  # for hooks_reference

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_registry():
    """A registry that forgets everything loaded before and after the test."""
    from interpbench import registry

    registry.reset()
    yield registry
    registry.reset()


@pytest.fixture(scope="session")
def task3():
    """Case 3 compiled, with its data: the DiscoveryTask most tests share."""
    from interpbench.runner import make_task

    return make_task("3", "tracr", seed=0)


@pytest.fixture(scope="session")
def compiled():
    """Fresh compiles (with tracr's own model kept for comparison), one per case name."""
    from interpbench import registry
    from interpbench.compiler import compile_case

    memo = {}

    def get(name: str):
        if name not in memo:
            memo[name] = compile_case(registry.get_case(name))
        return memo[name]

    return get
