"""The case commands as a user meets them: ``compile``, ``show case`` and ``list cases``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interpbench.schemas import CaseInfo

CATALOGUED = {str(n) for n in range(1, 132) if n not in (16, 27)}


def interpbench(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "interpbench.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cli_cache(tmp_path_factory):
    return {"INTERPBENCH_CACHE": str(tmp_path_factory.mktemp("cli-cache"))}


def test_compile_fills_the_cache_then_hits_it(cli_cache):
    first = interpbench("compile", "--case", "24", env=cli_cache)
    assert first.stdout.startswith("1 compiled, 0 cached, 0 not compilable")
    assert cli_cache["INTERPBENCH_CACHE"] in first.stdout
    entries = list((Path(cli_cache["INTERPBENCH_CACHE"]) / "tracr").glob("24-*"))
    assert len(entries) == 1 and (entries[0] / "model.safetensors").is_file() and (entries[0] / "meta.json").is_file()
    second = interpbench("compile", "--case", "24", env=cli_cache)
    assert second.stdout.startswith("0 compiled, 1 cached, 0 not compilable")


def test_compile_needs_a_case_and_knows_the_cases(cli_cache):
    missing = interpbench("compile", env=cli_cache, check=False)
    assert missing.returncode != 0 and "--case" in missing.stderr
    unknown = interpbench("compile", "--case", "16", env=cli_cache, check=False)
    assert unknown.returncode != 0 and "16" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_show_case_json_and_image(cli_cache, tmp_path):
    """Case 24 is ``Aggregate(Select(indices, indices, EQ), tokens)``: one head whose
    q and k read positions and whose v reads tokens, writing the output."""
    png = tmp_path / "case24.png"
    proc = interpbench("show", "case", "24", "--json", "--image", str(png), env=cli_cache)
    shown = json.loads(proc.stdout)
    case = CaseInfo.model_validate(shown["case"])
    assert (case.name, case.max_seq_len, case.categorical, case.causal) == ("24", 10, True, True)
    assert case.vocab == ["a", "b", "c"]
    assert shown["model"]["n_layers"] == 1 and shown["model"]["n_heads"] == 1
    edges = {(e["sender"], e["receiver"]) for e in shown["circuit"]["edge"]["edges"]}
    assert edges == {
        ("hook_pos_embed", "blocks.0.hook_q_input[0]"),
        ("hook_pos_embed", "blocks.0.hook_k_input[0]"),
        ("hook_embed", "blocks.0.hook_v_input[0]"),
        ("blocks.0.attn.hook_result[0]", "blocks.0.hook_resid_post"),
    }
    assert shown["circuit"]["head"]["level"] == "head"
    assert {(e["sender"], e["receiver"]) for e in shown["circuit"]["head"]["edges"]} == {
        ("blocks.0.hook_resid_pre", "blocks.0.attn.hook_result[0]"),
        ("blocks.0.attn.hook_result[0]", "blocks.0.hook_resid_post"),
    }
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_show_case_text(cli_cache):
    out = interpbench("show", "case", "24", env=cli_cache).stdout
    assert out.startswith("case 24:")
    assert "sequence length: 10 including BOS" in out
    assert "edge-level circuit: 7 nodes, 4 edges" in out
    assert "hook_embed -> blocks.0.hook_v_input[0]" in out


def test_list_cases_json_lists_every_case_with_its_fields():
    listed = json.loads(interpbench("list", "cases", "--json").stdout)
    infos = {c["name"]: CaseInfo.model_validate(c) for c in listed}
    assert set(infos) >= CATALOGUED and len(listed) == len(infos)
    for raw in listed:
        assert set(CaseInfo.model_fields) <= set(raw)
    assert {n for n, c in infos.items() if not c.categorical} == {"3", "4", "39"}
    three = infos["3"]
    assert (three.vocab, three.max_seq_len, three.causal, three.compilable) == (["a", "b", "c", "x"], 5, True, True)
    assert infos["2"].causal is False and infos["8"].trivial is True
    assert infos["39"].max_seq_len == 60 and len(infos["39"].vocab) == 26
    assert all(c.plugin == "interpbench" for n, c in infos.items() if n in CATALOGUED)
