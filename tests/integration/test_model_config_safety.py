"""No code runs from a model directory's config, whichever loader reads it.

The attack (issue 15): a config naming ``tokenizer_name`` makes ``HookedTransformer(cfg)``
call ``AutoTokenizer.from_pretrained(name, trust_remote_code=True)``, which imports the
``tokenization_*.py`` that a ``tokenizer_config.json`` in that folder points to. Every test
here plants such a folder, whose code would create a marker file, and checks the marker
never appears.
"""

import json
import pickle
import shutil

import pytest
from click.testing import CliRunner

from interpbench import registry
from interpbench.cli import cli
from interpbench.errors import InterpbenchError
from interpbench.siit import zoo
from interpbench.siit.published import export_published, load_published
from interpbench.siit.store import load_trained


@pytest.fixture(scope="module")
def case3():
    return registry.get_case("3")


@pytest.fixture
def evil_tokenizer(tmp_path):
    """A local tokenizer folder whose remote code writes ``marker`` when imported."""
    folder = tmp_path / "evil-tokenizer"
    folder.mkdir()
    marker = tmp_path / "pwned"
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}})
    )
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (folder / "tokenization_evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('pwned')\n"
        "from transformers import PreTrainedTokenizer\n"
        "class EvilTokenizer(PreTrainedTokenizer):\n    pass\n"
    )
    return folder, marker


@pytest.fixture
def siit_dir(tmp_path):
    target = tmp_path / "siit-3"
    shutil.copytree(zoo.find("3"), target)
    return target


@pytest.fixture
def published_dir(tmp_path, case3):
    return export_published(case3, zoo.find("3"), tmp_path / "pub-3")


def test_a_published_config_naming_a_tokenizer_runs_no_code(published_dir, case3, evil_tokenizer):
    folder, marker = evil_tokenizer
    fields = pickle.loads((published_dir / "ll_model_cfg.pkl").read_bytes())
    fields.update(tokenizer_name=str(folder), trust_remote_code=True)
    (published_dir / "ll_model_cfg.pkl").write_bytes(pickle.dumps(fields))
    loaded = load_published(published_dir, case3)
    assert not marker.exists()
    assert loaded.model.tokenizer is None
    assert {"tokenizer_name", "trust_remote_code"} <= set(loaded.info["ignored_config_fields"])
    result = CliRunner().invoke(
        cli, ["run", "--case", "3", "--method", "eap", "--loader", "interpbench-dir", "--model-dir", str(published_dir)]
    )
    assert result.exit_code == 0, result.output
    assert not marker.exists()


def test_a_trained_directory_config_naming_a_tokenizer_runs_no_code(siit_dir, case3, evil_tokenizer):
    folder, marker = evil_tokenizer
    cfg = json.loads((siit_dir / "config.json").read_text())
    cfg.update(tokenizer_name=str(folder), trust_remote_code=True)
    (siit_dir / "config.json").write_text(json.dumps(cfg))
    loaded = load_trained(case3, siit_dir)
    assert not marker.exists() and loaded.model.tokenizer is None
    result = CliRunner().invoke(
        cli, ["run", "--case", "3", "--method", "eap", "--loader", "siit", "--model-dir", str(siit_dir)]
    )
    assert result.exit_code == 0, result.output
    assert not marker.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_layers", 10**6),
        ("d_model", 10**7),
        ("n_heads", -1),
        ("d_head", "12"),
        ("n_layers", True),
        ("act_fn", "os.system"),
        ("normalization_type", "LNx"),
        ("positional_embedding_type", "rotary"),
        ("parallel_attn_mlp", True),
    ],
)
def test_an_absurd_or_unsupported_config_is_refused_before_anything_is_built(
    siit_dir, published_dir, case3, field, value
):
    cfg = json.loads((siit_dir / "config.json").read_text())
    (siit_dir / "config.json").write_text(json.dumps({**cfg, field: value}))
    with pytest.raises(InterpbenchError, match=rf"config.json: .*{field}"):
        load_trained(case3, siit_dir)
    fields = pickle.loads((published_dir / "ll_model_cfg.pkl").read_bytes())
    (published_dir / "ll_model_cfg.pkl").write_bytes(pickle.dumps({**fields, field: value}))
    with pytest.raises(InterpbenchError, match=rf"ll_model_cfg.pkl: .*{field}"):
        load_published(published_dir, case3)


def test_a_refused_config_is_one_line_from_the_cli(siit_dir):
    cfg = json.loads((siit_dir / "config.json").read_text())
    (siit_dir / "config.json").write_text(json.dumps({**cfg, "n_layers": 10**6}))
    result = CliRunner().invoke(
        cli, ["run", "--case", "3", "--method", "eap", "--loader", "siit", "--model-dir", str(siit_dir)]
    )
    assert result.exit_code != 0
    assert "config.json" in result.output and "n_layers" in result.output and "Traceback" not in result.output


def test_a_config_that_is_not_a_regular_file_is_refused_without_blocking(siit_dir, case3):
    import os

    (siit_dir / "config.json").unlink()
    os.mkfifo(siit_dir / "config.json")  # reading a FIFO with nobody writing would block forever
    with pytest.raises(InterpbenchError, match="config.json: not a regular file"):
        load_trained(case3, siit_dir)


def test_a_compile_cache_entry_naming_a_tokenizer_runs_no_code(case3, evil_tokenizer, tmp_path, monkeypatch):
    from interpbench.compiler import cache, load_compiled

    folder, marker = evil_tokenizer
    monkeypatch.setenv("INTERPBENCH_CACHE", str(tmp_path / "cache"))
    load_compiled(case3)  # fills the private cache
    (entry,) = [p for p in (tmp_path / "cache").rglob("meta.json")]
    meta = json.loads(entry.read_text())
    meta["cfg"].update(tokenizer_name=str(folder), trust_remote_code=True)
    meta["meta_sha256"] = cache._meta_digest(meta)  # the checksum guards against corruption, not an attacker
    entry.write_text(json.dumps(meta))
    load_compiled(case3)
    assert not marker.exists()


@pytest.mark.parametrize("attack", ["deep", "laughs"])
def test_pickle_bombs_are_refused_in_one_line(published_dir, case3, attack):
    depth = 1_000_000
    if attack == "deep":  # a list nested a million deep
        payload = b"\x80\x04" + b"]" * depth + b"a" * (depth - 1) + b"."
    else:  # each level a tuple of ten references to the one below (MARK, BINGET i ×10, TUPLE, MEMOIZE):
        # 8 levels, 10**8 items, a few hundred bytes
        levels = b"".join(b"(" + (b"h" + bytes([i])) * 10 + b"t\x94" for i in range(8))
        payload = b"\x80\x04)\x94" + levels + b"."
    (published_dir / "edges.pkl").write_bytes(payload)
    with pytest.raises(InterpbenchError, match=r"edges.pkl: (nested deeper|more than)"):
        load_published(published_dir, case3)
