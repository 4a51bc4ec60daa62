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
