"""Fingerprint every registered case's compiled model, to prove a refactor changed none.

For each case the registry lists, this compiles it through the project
(``interpbench.compiler.load_compiled``, so through the on-disk compile cache, whose
key changes whenever the case's program source does) and records:

- the case's spec fields (name, description, vocabulary, lengths, flags, plugin) and
  the names of its sampler and reference, with a few inputs drawn from its sampler and
  the reference's outputs on them (the data generators must be unchanged too);
- the residual-stream labels, in order;
- the sha256 of every weight tensor's exact bytes, with its dtype and shape;
- the ground-truth circuit's edges (sorted);
- the input encoding (token -> id) and the output values.

Usage (from the repository root)::

    python tools/case_fingerprints.py record before.json   # on the untouched tree
    python tools/case_fingerprints.py record after.json    # after the change
    python tools/case_fingerprints.py compare before.json after.json

``record`` takes optional case names after the file to fingerprint only those.
``compare`` prints how many cases are identical and, for each that differs, which
fields differ; it exits 1 when any case differs or is missing on either side.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from typing import Any

SAMPLED_INPUTS = 8  # sequences drawn from a case's sampler to fingerprint its data generator


def _plain(value: Any) -> Any:
    """A JSON-comparable form of a vocabulary value or output (tokens may be ints or strings)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)


def _qualname(fn: Any) -> str | None:
    # The module is left out: moving a sampler to another catalogue file does not change
    # it, and what it generates is recorded below.
    return None if fn is None else getattr(fn, "__qualname__", repr(fn))


def spec_fields(case: Any) -> dict[str, Any]:
    from interpbench.cases.data import sorted_vocab

    fields: dict[str, Any] = {
        "name": case.name,
        "description": case.description,
        "plugin": case.plugin,
        "vocab": [_plain(v) for v in sorted_vocab(case.vocab)],
        "max_seq_len": case.max_seq_len,
        "categorical": case.categorical,
        "causal": case.causal,
        "trivial": case.trivial,
        "not_compilable": case.not_compilable,
        "has_program": case.program is not None,
        "sampler": _qualname(case.sampler),
        "reference": _qualname(case.reference),
    }
    if case.sampler is not None:
        inputs = case.sampler(random.Random(0), SAMPLED_INPUTS, case.max_seq_len - 1)
        fields["sampled_inputs"] = _plain(inputs)
        if case.reference is not None:
            fields["reference_outputs"] = _plain([case.reference(list(x)) for x in inputs])
    return fields


def fingerprint(case: Any) -> dict[str, Any]:
    from interpbench.compiler import load_compiled

    record: dict[str, Any] = {"spec": spec_fields(case)}
    if case.program is None or case.not_compilable:
        return record
    compiled = load_compiled(case)
    record["residual_labels"] = list(compiled.residual_labels)
    record["weights"] = {
        name: {
            "dtype": str(t.dtype),
            "shape": list(t.shape),
            "sha256": hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest(),
        }
        for name, t in sorted(compiled.model.state_dict().items())
    }
    record["circuit_edges"] = sorted(list(e) for e in compiled.circuit.edge_set())
    record["input_encoding"] = sorted(
        ([_plain(token), i] for token, i in compiled.input_encoding.items()), key=lambda p: p[1]
    )
    record["output_values"] = _plain(compiled.output_values)
    return record


def record(path: str, names: list[str]) -> None:
    from interpbench import registry

    names = names or [info.name for info in registry.cases()]
    prints: dict[str, Any] = {}
    for name in names:
        start = time.time()
        prints[name] = fingerprint(registry.get_case(name))
        print(f"case {name}: {time.time() - start:.1f}s", file=sys.stderr, flush=True)
    with open(path, "w") as f:
        json.dump(prints, f, indent=1, sort_keys=True)


def compare(before_path: str, after_path: str) -> int:
    with open(before_path) as f:
        before = json.load(f)
    with open(after_path) as f:
        after = json.load(f)
    identical, differing = 0, []
    for name in sorted(set(before) | set(after), key=lambda n: (len(n), n)):
        if name not in before or name not in after:
            differing.append(f"case {name}: only in {'after' if name not in before else 'before'}")
        elif before[name] == after[name]:
            identical += 1
        else:
            fields = sorted(
                k for k in set(before[name]) | set(after[name]) if before[name].get(k) != after[name].get(k)
            )
            differing.append(f"case {name}: differs in {', '.join(fields)}")
    print(f"{identical} identical, {len(differing)} differing")
    for line in differing:
        print(line)
    return 1 if differing else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "record":
        record(argv[1], argv[2:])
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
