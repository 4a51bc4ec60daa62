"""Bad input, tried systematically on every command: one clear line and a non-zero exit,
never a traceback (issue: hardening). Every value here is wrong in one way."""

import itertools

import pytest
from click.testing import CliRunner

from interpbench.cli import cli

BAD_CASES = ["", "0", "-3", "999999", "3;rm", "../3", "nan"]
BAD_NUMBERS = ["", "-1", "nan", "inf", "1e999", "abc", "99999999999999999999"]
BAD_SETTINGS = ["", "=", "x", "threshold", "threshold=", "nosuchkey=1", "threshold=nan", "threshold=[1,2]"]

INVOCATIONS = (
    [["run", "--case", c, "--method", "acdc"] for c in BAD_CASES]
    + [["run", "--case", "3", "--method", m] for m in ["", "ACDC", "acdc,eap", "no-such"]]
    + [["run", "--case", "3", "--method", "acdc", "--loader", l] for l in ["", "hard-nothing", "siit,tracr"]]
    + [["run", "--case", "3", "--method", "acdc", "--seed", n] for n in BAD_NUMBERS]
    + [["run", "--case", "3", "--method", "acdc", "--examples", n] for n in BAD_NUMBERS + ["0", "1"]]
    + [["run", "--case", "3", "--method", "acdc", "--set", s] for s in BAD_SETTINGS]
    + [["run", "--case", "3", "--method", "acdc", "--out", ""]]
    + [["sweep", "--cases", c, "--methods", "acdc", "--out", "x"] for c in ["", ",", "3,no-such", "zoo,3"]]
    + [["sweep", "--cases", "3", "--methods", "acdc", "--out", "x", "--seeds", s] for s in ["", "a", "-1", "1,,2"]]
    + [["sweep", "--cases", "3", "--methods", "acdc", "--out", "x", "--jobs", n] for n in ["0", "-2", "x"]]
    + [["sweep", "--cases", "3", "--methods", "acdc", "--out", "x", "--set", s] for s in ["acdc", "acdc.=1", ".x=1"]]
    + [["train", "--case", c] for c in BAD_CASES[:4]]
    + [["train", "--case", "3", "--set", s] for s in BAD_SETTINGS]
    + [["train", "--case", "3", "--hard", h] for h in ["", "no-such", "redundant,backup"]]
    + [["eval", "--case", c] for c in BAD_CASES[:4]]
    + [["eval", "--case", "3", "--loader", l] for l in ["", "no-such"]]
    + [["zoo", "build", "--cases", c] for c in ["", "no-such"]]
    + [["zoo", "build", "--hard", h, "--cases", "13"] for h in ["", "no-such"]]
    + [["show", "case", c] for c in BAD_CASES[:4]]
    + [["report", "no-such-folder"], ["rescore", "no-such-folder"], ["schema", "NoSuchModel"]]
    + [["list", "nothing"], ["compile", "--case", "no-such"], ["export", "--case", "no-such", "--out", "x"]]
    + [["score", "--case", c, "--scores", "pyproject.toml"] for c in BAD_CASES[:4]]
    + [["score", "--case", "3", "--scores", s] for s in ["", "no-such.json", "pyproject.toml", "/dev/null"]]
    + [["run", "--case", "3", "--method", "acdc", "--export-scores", ""]]
)


@pytest.mark.parametrize("args", INVOCATIONS, ids=lambda a: " ".join(repr(x) if not x else x for x in a))
def test_bad_input_is_one_line_and_a_non_zero_exit(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERPBENCH_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error", "interpbench: error"))]
    assert len(errors) == 1, result.output
    assert not list(itertools.islice(tmp_path.glob("x/*.json"), 1)), "nothing is written on bad input"
