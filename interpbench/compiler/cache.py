"""On-disk cache of compiled cases: a compile costs seconds, a cached load milliseconds.

An entry is a folder ``<cache>/tracr/<case>-<key>/`` holding ``model.safetensors``
and ``meta.json``; the key hashes what affects the weights (the case's definition,
the tracr and interpbench compile versions). Entries are written aside and renamed
into place, and ``meta.json`` records the weights' sha256, so a partial or corrupt
entry is detected and rebuilt, never loaded.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.formats.model_files import check_regular, read_regular
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


def _stable_repr(value: Any) -> str:
    """``repr`` with sets in sorted order (their iteration order changes between processes)."""
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(_stable_repr, value))) + "}"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + "(" + ", ".join(map(_stable_repr, value)) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(f"{_stable_repr(k)}: {_stable_repr(v)}" for k, v in value.items())) + "}"
    return repr(value)


def program_sources(program: Any) -> list[str]:
    """The source of a case's program and of everything of its own module it reaches: the
    functions it calls (transitively, nested functions and closures included) and the
    constants it reads. Another case's program in the same module is not among them, so
    editing one case does not recompile its neighbours."""
    module = inspect.getmodule(program)
    sources: list[str] = []
    seen: set[int] = set()
    todo = [program]
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        if isinstance(fn, functools.partial):
            sources.append(f"partial{_stable_repr(fn.args)}{_stable_repr(fn.keywords)}")
            todo.append(fn.func)
            continue
        sources.append(_source(fn))
        code = getattr(fn, "__code__", None)
        if code is None:
            continue
        names: set[str] = set()
        codes = [code]
        while codes:
            c = codes.pop()
            names |= set(c.co_names)
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
        reached = [getattr(fn, "__globals__", {}).get(n) for n in sorted(names)]
        reached += [cell.cell_contents for cell in fn.__closure__ or ()] + list(fn.__defaults__ or ())
        for value in reached:
            if callable(value) and not isinstance(value, type) and inspect.getmodule(value) is module:
                todo.append(value)
            elif isinstance(value, (bool, int, float, str, tuple, list, set, frozenset, dict)):
                sources.append(_stable_repr(value))
    return sources


def case_key(case: CaseSpec) -> str:
    """Hash of everything that determines the compiled weights of a case: its fields,
    the source of its program and of what the program reaches in its module, the shared
    RASP helpers, and the tracr version."""
    from interpbench.cases import rasp_lib, vocabs
    from interpbench.versions import versions

    sources = [*program_sources(case.program), _source(rasp_lib), _source(vocabs)]
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
