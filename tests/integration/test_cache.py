"""The on-disk cache of compiled cases: hits do not recompile and give the same model;
broken entries are rebuilt, never loaded; the key follows what changes the weights."""

from __future__ import annotations

import json
import time

import pytest
import torch

import interpbench.compiler as compiler
from interpbench import registry
from interpbench.cases.data import encode
from interpbench.compiler import cache, load_compiled
from interpbench.compiler.verify import sample_inputs


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERPBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _forbid_compiling(monkeypatch):
    def boom(*_a, **_k):
        raise AssertionError("a cache hit must not compile")

    monkeypatch.setattr(compiler, "compile_case", boom)
    monkeypatch.setattr(compiler, "compile_tracr", boom)


def _logits(compiled, inputs):
    with torch.no_grad():
        return compiled.model(encode(inputs, compiled.input_encoding))


def test_second_load_is_a_hit_with_the_same_model_and_circuit(cache_dir, monkeypatch):
    spec = registry.get_case("24")
    t0 = time.perf_counter()
    fresh = load_compiled(spec)
    t_compile = time.perf_counter() - t0
    assert fresh.artifacts is not None, "the first load compiles"
    entry = cache.entry_dir(spec)
    assert entry.parent.parent == cache_dir and {p.name for p in entry.iterdir()} == {"model.safetensors", "meta.json"}

    _forbid_compiling(monkeypatch)
    t0 = time.perf_counter()
    hit = load_compiled(spec)
    t_hit = time.perf_counter() - t0
    print(f"\ncase 24: compile + write {t_compile:.2f} s, cached load {t_hit:.3f} s")
    assert hit.artifacts is None, "served from the cache"

    inputs = sample_inputs(spec, 25, seed=0)
    assert torch.equal(_logits(fresh, inputs), _logits(hit, inputs))
    assert hit.circuit == fresh.circuit
    assert hit.input_encoding == fresh.input_encoding
    assert hit.output_values == fresh.output_values
    assert hit.residual_labels == fresh.residual_labels
    assert hit.model.cfg.attention_dir == fresh.model.cfg.attention_dir == "causal"
    assert hit.model.cfg.n_ctx == fresh.model.cfg.n_ctx == spec.max_seq_len


def test_cache_off_always_compiles(cache_dir, compiled, monkeypatch):
    spec = registry.get_case("8")
    calls = []
    monkeypatch.setattr(compiler, "compile_case", lambda case: calls.append(case.name) or compiled("8"))
    load_compiled(spec, use_cache=False)
    assert calls == ["8"] and not cache.entry_dir(spec).exists()


def _truncate_weights(entry):
    weights = entry / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def _garble_meta(entry):
    meta = entry / "meta.json"
    meta.write_text(meta.read_text()[:40])


def _flip_weight_byte(entry):
    weights = entry / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))


def _drop_weights(entry):
    (entry / "model.safetensors").unlink()


def _wrong_format(entry):
    meta = json.loads((entry / "meta.json").read_text())
    meta["format"] = -1
    (entry / "meta.json").write_text(json.dumps(meta))


def _drop_circuit_from_meta(entry):
    meta = json.loads((entry / "meta.json").read_text())
    del meta["circuit"]
    (entry / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage",
    [
        _truncate_weights,
        _garble_meta,
        _flip_weight_byte,
        _drop_weights,
        _wrong_format,
        _drop_circuit_from_meta,
    ],
)
def test_a_damaged_entry_is_rebuilt_not_loaded(cache_dir, compiled, monkeypatch, damage):
    spec = registry.get_case("8")
    good = compiled("8")
    calls = []

    def counting_compile(case):
        calls.append(case.name)
        return good

    monkeypatch.setattr(compiler, "compile_case", counting_compile)
    load_compiled(spec)
    assert calls == ["8"] and cache.read(spec) is not None

    damage(cache.entry_dir(spec))
    rebuilt = load_compiled(spec)
    assert calls == ["8", "8"], "the damaged entry was not rebuilt"
    assert rebuilt is good
    # The rebuilt entry is whole again and serves the next load.
    assert cache.read(spec) is not None
    again = load_compiled(spec)
    assert calls == ["8", "8"] and again.artifacts is None
    inputs = sample_inputs(spec, 10, seed=0)
    assert torch.equal(_logits(again, inputs), _logits(good, inputs))


def test_key_follows_what_changes_the_weights():
    spec = registry.get_case("24")
    key = cache.case_key(spec)
    assert cache.case_key(spec) == key == cache.case_key(spec.model_copy())
    registry.reset()
    try:
        assert cache.case_key(registry.get_case("24")) == key, "the key is stable across registry loads"
    finally:
        registry.reset()
    changed = {
        "vocab": spec.model_copy(update={"vocab": spec.vocab | {"d"}}),
        "smaller vocab": spec.model_copy(update={"vocab": frozenset({"a", "b"})}),
        "max_seq_len": spec.model_copy(update={"max_seq_len": spec.max_seq_len + 1}),
        "causal": spec.model_copy(update={"causal": not spec.causal}),
    }
    keys = {what: cache.case_key(s) for what, s in changed.items()}
    assert key not in keys.values()
    assert len(set(keys.values())) == len(keys)
    # Two cases from the same module with the same settings still get separate folders.
    other = spec.model_copy(update={"name": "24-copy"})
    assert cache.entry_dir(other) != cache.entry_dir(spec)


def test_an_entry_is_not_served_for_a_changed_case(cache_dir, compiled, monkeypatch):
    spec = registry.get_case("8")
    monkeypatch.setattr(compiler, "compile_case", lambda case: compiled("8"))
    load_compiled(spec)
    assert cache.read(spec) is not None
    assert cache.read(spec.model_copy(update={"max_seq_len": 11})) is None
    assert cache.read(spec.model_copy(update={"vocab": spec.vocab - {10}})) is None


def test_an_entry_swapped_with_another_cases_or_a_symlink_to_it_is_refused_and_rebuilt(cache_dir, capsys):
    """An entry proves it is this case's: swapping two cases' files (checksums and all) or
    pointing one entry at another by a symlink makes a rebuild, never the wrong model."""
    import os
    import shutil

    seven, eight = registry.get_case("7"), registry.get_case("8")
    right = load_compiled(seven).circuit
    load_compiled(eight)
    a, b = cache.entry_dir(seven), cache.entry_dir(eight)
    for name in ("model.safetensors", "meta.json"):
        shutil.copy(b / name, a / name)  # case 8's entry under case 7's name
    capsys.readouterr()
    assert load_compiled(seven).circuit == right
    assert "refused (it was built for case '8'" in capsys.readouterr().err

    shutil.rmtree(a)
    os.symlink(b, a)
    assert load_compiled(seven).circuit == right
    assert not a.is_symlink() and "it is a symlink" in capsys.readouterr().err


def test_stale_temporary_folders_of_interrupted_compiles_are_cleaned(cache_dir):
    import os

    spec = registry.get_case("8")
    load_compiled(spec)
    stale = cache.entry_dir(spec).parent / f".{cache.entry_dir(spec).name}.abandoned"
    stale.mkdir()
    old = time.time() - 2 * cache.STALE_TEMPORARY_SECONDS
    os.utime(stale, (old, old))
    cache.remove(spec)
    load_compiled(spec)
    assert not stale.exists()


@pytest.mark.parametrize("kind", ["fifo-meta", "file-entry"])
def test_special_files_in_an_entry_are_refused_without_blocking(cache_dir, kind):
    import os
    import shutil

    spec = registry.get_case("8")
    right = load_compiled(spec).circuit
    folder = cache.entry_dir(spec)
    if kind == "fifo-meta":
        (folder / "meta.json").unlink()
        os.mkfifo(folder / "meta.json")  # reading it would block forever
    else:
        shutil.rmtree(folder)
        folder.write_text("not an entry")
    assert load_compiled(spec).circuit == right
    assert folder.is_dir() and (folder / "meta.json").is_file()


CATALOGUE = """
LIMIT = {limit}


def _helper(x):
    return x + {helper}


def first():
    return _helper(LIMIT)


def second():
    return {second}
"""


def _programs(tmp_path, name, **values):
    import importlib.util

    path = tmp_path / f"{name}.py"
    path.write_text(CATALOGUE.format(**{"limit": 1, "helper": 1, "second": 1, **values}))
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_the_key_follows_the_case_own_program_not_its_neighbours(tmp_path):
    spec = registry.get_case("24")

    def key(module):
        return cache.case_key(spec.model_copy(update={"program": module.first}))

    base = key(_programs(tmp_path, "base"))
    assert key(_programs(tmp_path, "neighbour_edited", second=2)) == base, "another case's program changed"
    assert key(_programs(tmp_path, "helper_edited", helper=2)) != base, "a helper the program calls changed"
    assert key(_programs(tmp_path, "constant_edited", limit=2)) != base, "a constant the program reads changed"
