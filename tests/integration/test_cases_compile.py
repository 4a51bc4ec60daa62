"""The case library: every catalogued case is registered as CASES.md describes it, and
the compiled HookedTransformers agree with tracr's own models and with RASP."""

from __future__ import annotations

import pytest

from interpbench import registry
from interpbench.compiler import compile_case
from interpbench.compiler.verify import check_agreement, sample_inputs

CATALOGUED = [str(n) for n in range(1, 132) if n not in (16, 27)]
#: Structurally varied and quick to compile: a 2-offset shift + SequenceMap (1), the
#: numerical prefix mean (3) and its 59-token variant (39), two numerical aggregates in
#: one layer (4), a SelectorWidth (7), a single Map (8), a sort (9), two SelectorWidths
#: in one layer (18), a word-vocab previous-token case (32), and a 5-layer all-check (125).
SUBSET = ["1", "3", "4", "7", "8", "9", "18", "32", "39", "125"]


def _compilable_names() -> list[str]:
    return [s.name for s in registry.case_specs() if s.not_compilable is None and s.program is not None]


def _assert_agrees(name: str, compiled, n: int) -> None:
    case = registry.get_case(name)
    agreement = check_agreement(case, compiled, sample_inputs(case, n, seed=0))
    assert agreement.ok, f"case {name}: converted model differs from tracr's: {agreement}"
    assert agreement.rasp_mismatches == 0, f"case {name}: differs from the RASP program: {agreement}"
    assert agreement.rasp_checked > 0, f"case {name}: no position where RASP is defined was checked"


# --- the registry ----------------------------------------------------------------------------


def test_every_catalogued_case_is_registered():
    names = {c.name for c in registry.cases()}
    assert set(CATALOGUED) <= names
    assert not {"16", "27"} & names, "cases 16 and 27 were removed from InterpBench"
    assert len(CATALOGUED) == 129


def test_only_cases_3_4_39_are_numerical():
    infos = {c.name: c for c in registry.cases() if c.name in CATALOGUED}
    assert {n for n, c in infos.items() if not c.categorical} == {"3", "4", "39"}


@pytest.mark.parametrize(
    "names, length",
    [(("89", "100", "116"), 11), (("3", "15", "119"), 5), (("12", "19"), 15), (("39",), 60)],
)
def test_max_seq_len_counts_bos(names, length):
    for name in names:
        assert registry.get_case(name).max_seq_len == length, name


def test_every_other_case_has_the_default_length():
    special = {"89", "100", "116", "3", "15", "119", "12", "19", "39"}
    odd = {n: registry.get_case(n).max_seq_len for n in CATALOGUED if n not in special}
    assert {n: L for n, L in odd.items() if L != 10} == {}


def test_cases_marked_not_compilable_say_why():
    for info in registry.cases():
        if not info.compilable:
            assert info.not_compilable_reason and info.not_compilable_reason.strip(), info.name
        else:
            assert info.not_compilable_reason is None, info.name


def test_case_descriptions_and_vocabs_are_usable():
    for spec in registry.case_specs():
        if spec.name not in CATALOGUED:
            continue
        assert spec.description and len(spec.vocab) >= 2, spec.name
        assert not {"BOS", "PAD"} & set(spec.vocab), f"case {spec.name}: vocab holds a special token"


# --- compiled models ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUBSET)
def test_representative_cases_compile_and_agree(compiled, name):
    _assert_agrees(name, compiled(name), n=12)


def test_compiled_model_shape_matches_the_case(compiled):
    """Input ids cover the vocab plus BOS and PAD; n_ctx is max_seq_len (BOS included);
    causal cases get causal attention; the numerical case has one output channel."""
    for name in ("3", "7", "39"):
        case, c = registry.get_case(name), compiled(name)
        cfg = c.model.cfg
        assert set(c.input_encoding) == set(case.vocab) | {"BOS", "PAD"}
        assert cfg.d_vocab == len(case.vocab) + 2
        assert cfg.n_ctx == case.max_seq_len
        assert cfg.attention_dir == ("causal" if case.causal else "bidirectional")
        if case.categorical:
            assert c.output_values is not None and cfg.d_vocab_out == len(c.output_values)
        else:
            assert c.output_values is None and cfg.d_vocab_out == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", _compilable_names())
def test_every_case_compiles_and_agrees(name):
    """Every registered compilable case (129; about 9 minutes on 2 cores)."""
    _assert_agrees(name, compile_case(registry.get_case(name)), n=20)
