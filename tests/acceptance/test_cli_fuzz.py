"""A seeded fuzzer over the command line: random commands, options and values, valid and
not, mixed. The invariant a user relies on: exit 0 with its output, or one error line and
a non-zero exit; never a traceback. A few dozen invocations in the default run, hundreds
in the slow set."""

import random

import pytest
from click.testing import CliRunner

from interpbench.cli import cli

CASES = ["3", "8", "", "0", "-3", "999", "3;rm", "../3", "nan", "ß", "3 "]
METHODS = ["random", "node-ablation", "eap", "exact", "", "ACDC", "acdc,eap", "no-such", "-"]
LOADERS = ["tracr", "siit", "", "no-such", "hard-backup", "siit,tracr"]
NUMBERS = ["0", "1", "8", "16", "-1", "", "nan", "inf", "1e999", "abc", "99999999999999999999", "2.5"]
SETTINGS = ["", "=", "x", "keep=0.3", "keep=", "keep=2", "keep=nan", "keep=[1]", "nosuch=1", "ablation=mean",
            "ablation=oops", "relative_threshold=0.5", "threshold=true"]  # fmt: skip
SCHEMAS = ["RunResult", "Scores", "MIBGraph", "AutoCircuitScores", "", "NoSuch", "scores"]
LISTS = ["cases", "methods", "loaders", "metrics", "structures", "nothing", ""]
FILES = ["pyproject.toml", "/dev/null", "no-such.json", "", "/proc/self/status", "tests"]


def invocation(rng: random.Random) -> list[str]:
    def some(pool):
        return rng.choice(pool)

    kind = rng.choice(["run", "run", "run", "show", "list", "schema", "eval", "score"])
    if kind == "run":
        args = ["run", "--case", some(CASES), "--method", some(METHODS), "--examples", some(NUMBERS[:4] + NUMBERS)]
        for option, pool in (("--loader", LOADERS), ("--seed", NUMBERS), ("--set", SETTINGS)):
            if rng.random() < 0.5:
                args += [option, some(pool)]
        return args + (["--json"] if rng.random() < 0.3 else [])
    if kind == "show":
        return ["show", "case", some(CASES)] + (["--loader", some(LOADERS)] if rng.random() < 0.5 else [])
    if kind == "list":
        return ["list", some(LISTS)]
    if kind == "schema":
        return ["schema", some(SCHEMAS)]
    if kind == "eval":
        return ["eval", "--case", some(CASES), "--loader", some(LOADERS)]
    return ["score", "--case", some(CASES), "--scores", some(FILES)]


def check(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    where = f"interpbench {' '.join(repr(a) if not a or ' ' in a else a for a in args)}\n{result.output}"
    assert "Traceback" not in result.output, where
    assert result.exception is None or isinstance(result.exception, SystemExit), f"{where}\n{result.exception!r}"
    if result.exit_code != 0:
        errors = [line for line in result.output.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, where


def _draws(seed: int, n: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [invocation(rng) for _ in range(n)]


@pytest.mark.parametrize("args", _draws(2026, 30), ids=lambda a: " ".join(a)[:80])
def test_fuzzed_command_lines_end_in_output_or_one_line(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check(args)


@pytest.mark.slow
@pytest.mark.parametrize("args", _draws(7, 300), ids=lambda a: " ".join(a)[:80])
def test_fuzzed_command_lines_at_length(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check(args)
