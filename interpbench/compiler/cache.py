"""On-disk cache of compiled cases: a compile costs seconds, a cached load milliseconds.

An entry is a folder ``<cache>/tracr/<case>-<key>/`` holding ``model.safetensors``
and ``meta.json``; the key hashes what affects the weights (the case's definition,
the tracr and interpbench compile versions). Entries are written aside and renamed
into place, and ``meta.json`` records the weights' sha256, so a partial or corrupt
entry is detected and rebuilt, never loaded.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.model_files import check_regular, read_regular
from interpbench.registry.specs import CaseSpec

#: Bump when the conversion changes the weights or the stored fields.
#: 2: an entry names the case and key it was built for.
FORMAT_VERSION = 2
STALE_TEMPORARY_SECONDS = 3600  # a compile's temporary folder older than this was interrupted


def cache_root() -> Path:
    env = os.environ.get("INTERPBENCH_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("interpbench"))


def _source(module: Any) -> str:
    try:
        return inspect.getsource(module)
    except (TypeError, OSError):
        return repr(module)


def case_key(case: CaseSpec) -> str:
    """Hash of everything that determines the compiled weights of a case: its fields,
    the source of the module declaring its program and of the shared RASP helpers,
    and the tracr version."""
    from interpbench.cases import rasp_lib, vocabs
    from interpbench.versions import versions

    sources = [_source(inspect.getmodule(case.program)), _source(rasp_lib), _source(vocabs)]
    facts = {
        "format": FORMAT_VERSION,
        "tracr": versions().get("tracr-pypi", "?"),
        "vocab": sorted(map(repr, case.vocab)),
        "max_seq_len": case.max_seq_len,
        "causal": case.causal,
        "categorical": case.categorical,
        "program_source": hashlib.sha256("\n".join(sources).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def entry_dir(case: CaseSpec) -> Path:
    return cache_root() / "tracr" / f"{case.name}-{case_key(case)}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _meta_digest(meta: dict[str, Any]) -> str:
    """Checksum of the stored fields (everything but the checksum itself)."""
    payload = {k: v for k, v in meta.items() if k != "meta_sha256"}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def read(case: CaseSpec) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(state_dict, meta) of a valid entry, or None: missing, or refused and removed (partial,
    corrupt, a symlink, a special file, or an entry built for another case, program or
    version of tracr), with the reason in one line on stderr."""
    from safetensors.torch import load_file

    folder = entry_dir(case)
    weights, meta_file = folder / "model.safetensors", folder / "meta.json"
    if not folder.exists() and not folder.is_symlink():
        return None
    try:
        if any(p.is_symlink() for p in (folder, weights, meta_file)):
            raise ValueError("it is a symlink")
        meta = json.loads(read_regular(meta_file, limit=16 * 2**20))
        check_regular(weights)
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"format {meta.get('format')!r}, not {FORMAT_VERSION}")
        if meta.get("weights_sha256") != _sha256(weights) or meta.get("meta_sha256") != _meta_digest(meta):
            raise ValueError("checksum mismatch")
        if (meta.get("case"), meta.get("key")) != (case.name, case_key(case)):
            raise ValueError(f"it was built for case {meta.get('case')!r} (key {meta.get('key')!r})")
        return load_file(str(weights)), meta
    except (OSError, ValueError, KeyError, AttributeError, RuntimeError, InterpbenchError) as e:
        print(f"interpbench: compile cache entry {folder.name} refused ({e}); rebuilding", file=sys.stderr)
        _discard(folder)
        return None


def _discard(folder: Path) -> None:
    if folder.is_symlink() or folder.is_file() or (folder.exists() and not folder.is_dir()):
        folder.unlink()  # a link, or a file or special file where an entry should be
    elif folder.exists():
        shutil.rmtree(folder, ignore_errors=True)


def remove(case: CaseSpec) -> None:
    _discard(entry_dir(case))


def write(case: CaseSpec, state_dict: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Store an entry atomically: build it in a temporary folder, then rename."""
    from safetensors.torch import save_file

    folder = entry_dir(case)
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f".{case.name}-*"):  # left by interrupted compiles
        if time.time() - stale.stat().st_mtime > STALE_TEMPORARY_SECONDS:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        save_file({k: v.contiguous() for k, v in state_dict.items()}, str(tmp / "model.safetensors"))
        meta = {**meta, "format": FORMAT_VERSION, "case": case.name, "key": case_key(case),
                "weights_sha256": _sha256(tmp / "model.safetensors")}  # fmt: skip
        meta["meta_sha256"] = _meta_digest(meta)
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        _discard(folder)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder
