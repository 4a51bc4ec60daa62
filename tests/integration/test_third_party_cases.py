"""A third-party case whose compiled model disagrees with its own RASP program is refused,
with the likely cause named, instead of silently giving a wrong model."""

import pytest

from interpbench import hookimpl
from interpbench.errors import InterpbenchError


def length_program():
    from tracr.rasp import rasp

    return rasp.SelectorWidth(rasp.Select(rasp.tokens, rasp.tokens, rasp.Comparison.TRUE))


class Cases:
    @hookimpl
    def register_cases(self, register):
        common = dict(vocab={"a", "b"}, max_seq_len=6, program=length_program, categorical=True)
        register(name="length-causal", description="Sequence length, registered causal.", **common)
        register(name="length-bidirectional", description="Sequence length, bidirectional.", causal=False, **common)


@pytest.fixture
def cases(fresh_registry, tmp_path, monkeypatch):
    monkeypatch.setenv("INTERPBENCH_CACHE", str(tmp_path / "cache"))
    fresh_registry.add_plugin(Cases(), name="length-cases")
    return fresh_registry


def test_a_case_that_reads_later_positions_but_says_causal_is_refused(cases):
    from interpbench.compiler import load_compiled

    load_compiled(cases.get_case("length-bidirectional"))  # agrees with RASP: accepted
    with pytest.raises(
        InterpbenchError, match=r"disagrees with its RASP program .* register the case with causal=False"
    ):
        load_compiled(cases.get_case("length-causal"))


def raising_program():
    raise ZeroDivisionError("a bug in the case's own code")


class RaisingCase:
    @hookimpl
    def register_cases(self, register):
        register(
            name="raises",
            description="A program that raises.",
            vocab={"a"},
            max_seq_len=4,
            categorical=True,
            program=raising_program,
        )


def test_a_case_whose_program_raises_is_one_line_blaming_the_case_plugin(fresh_registry, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from interpbench.cli import cli

    monkeypatch.setenv("INTERPBENCH_CACHE", str(tmp_path / "cache"))
    fresh_registry.add_plugin(RaisingCase(), name="raising-cases")
    for args in (
        ["show", "case", "raises"],
        ["run", "--case", "raises", "--method", "eap"],
        ["compile", "--case", "raises"],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert lines[-1].startswith(
            "Error: case 'raises' (plugin 'raising-cases') failed: its program raised ZeroDivisionError"
        )
        assert "Traceback" not in result.output and "loader 'tracr'" not in result.output
