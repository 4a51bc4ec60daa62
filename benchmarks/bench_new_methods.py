"""The methods of issue 13 that auto-circuit does not ship (``exact``, ``clean-corrupted``,
``ifr``, ``random``), with ``eap`` beside them, timed in plain forward passes.

The reference is one forward pass of a copy of the same model *without* TransformerLens's
hook flags, on the same clean tokens, under ``torch.inference_mode``, timed in the same
run (each repeat times every entry one after the other, so load on a shared machine hits
all alike). A method's time is a whole call at its defaults, engine and clean logits
included. ``exact`` patches every edge alone, so its fair unit is one forward pass per
distinct circuit: the table gives its time per edge in forward passes.

Models: SIIT zoo models (cases 3 and 13), and the random LayerNorm models of
``bench_scale.py`` (``small``: 137 edges; ``medium``: 4 x 8 heads, 1,360 edges), 32
sequences of 16 tokens.

    python benchmarks/bench_new_methods.py [--models zoo-3,zoo-13,small,medium] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
from bench_methods import _code_version, interleaved, med  # noqa: E402
from bench_scale import make_model  # noqa: E402
from bench_scale import make_task as random_task  # noqa: E402

METHODS = ["exact", "clean-corrupted", "ifr", "random", "eap"]
FORWARDS = 10


def load(name: str):
    from interpbench.runner import make_task

    if name.startswith("zoo-"):
        return make_task(name.removeprefix("zoo-"), "siit", seed=0)
    return random_task(make_model(name))


def bench_model(name: str, repeats: int) -> dict:
    from interpbench import registry
    from interpbench.siit.train import plain_copy

    task = load(name)
    plain = plain_copy(task.model)

    def forward():  # ten, so that a sub-millisecond pass is timed above the clock's noise
        with torch.inference_mode():
            for _ in range(FORWARDS):
                plain(task.clean)

    def method(spec):
        def call():
            for key in ("engine", "clean_logits", "metric"):  # rebuilt inside the call, as in a run
                task.__dict__.pop(key, None)
            spec.run(task, spec.config())

        return call

    fns = {"forward": forward} | {m: method(registry.get_method(m)) for m in METHODS}
    times = interleaved(fns, repeats, warmup=1)
    seconds = {k: med(v) for k, v in times.items()}
    seconds["forward"] /= FORWARDS
    edges = len(task.graph.edges)
    return dict(
        edges=edges,
        batch=list(task.clean.shape),
        seconds=seconds,
        raw_seconds=times,  # forward: per ten passes
        in_forwards={m: seconds[m] / seconds["forward"] for m in METHODS},
        exact_per_edge_in_forwards=seconds["exact"] / edges / seconds["forward"],
    )


def table(results: dict) -> str:
    head = "| model | edges | forward ms | " + " | ".join(f"{m} (fwd)" for m in METHODS) + " | exact per edge (fwd) |"
    rows = [head, "|" + "---|" * (len(METHODS) + 4)]
    for name, r in results.items():
        cells = " | ".join(f"{r['in_forwards'][m]:.1f}" for m in METHODS)
        rows.append(
            f"| {name} | {r['edges']} | {1000 * r['seconds']['forward']:.2f} | {cells} | "
            f"**{r['exact_per_edge_in_forwards']:.2f}** |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="zoo-3,zoo-13,small,medium")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {name: bench_model(name, args.repeats) for name in args.models.split(",")}
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(code=_code_version(), threads=args.threads, results=results), f, indent=1)


if __name__ == "__main__":
    main()
