"""Are the widest cases slow because of the methods or because of the models? From a sweep folder.

    python benchmarks/wide_cases.py results/all-cases [--loader tracr] [--cases 127,119,113,5,81,126]

Reads every record's method time (no method is rerun) and times, in this process, one
plain forward pass of each case's model (a copy without TransformerLens's hook flags,
under ``torch.inference_mode``, median of five) on as many examples as the record used.
Per method variant it prints the median over all cases of the method's time and of that
time in forward passes, and for the chosen wide cases the ratio of each to the median:
a method that is slow on a wide case only because its forward pass is slow has a ratio
near 1 in forward passes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402


def forward_seconds(case: str, loader: str, n_examples: int) -> float:
    from interpbench.runner import make_task
    from interpbench.siit.train import plain_copy

    task = make_task(case, loader, seed=0, n_examples=n_examples)
    plain = plain_copy(task.model)
    times = []
    with torch.inference_mode():
        plain(task.clean)  # warm-up
        for _ in range(5):
            t0 = time.perf_counter()
            plain(task.clean)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def variant(record: dict) -> str:
    score = record["config"].get("score")
    return record["method"] + (f" [score={score}]" if score else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--loader", default="tracr")
    parser.add_argument("--cases", default="127,119,113,5,81,126")
    args = parser.parse_args()
    torch.set_num_threads(1)
    wide = args.cases.split(",")

    seconds: dict[str, dict[str, tuple[float, int]]] = defaultdict(dict)  # variant -> case -> (s, examples)
    edges: dict[str, int] = {}
    for path in Path(args.folder).glob("*.json"):
        record = json.loads(path.read_text())
        if record.get("status") == "ok" and record.get("loader") == args.loader and record.get("timings"):
            seconds[variant(record)][record["case"]] = (record["timings"]["method_seconds"], record["n_examples"])
            if record["scores"]["level"] == "edge":
                edges[record["case"]] = len(record["scores"]["edges"])

    forwards: dict[tuple[str, int], float] = {}
    needed = sorted({(case, n) for per_case in seconds.values() for case, (_, n) in per_case.items()})
    for i, (case, n) in enumerate(needed):
        forwards[case, n] = forward_seconds(case, args.loader, n)
        print(f"\rforward passes timed: {i + 1}/{len(needed)}", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)

    head = " | ".join(f"case {c}: × median s, × median fwd" for c in wide)
    print(f"| method | median s | median in forwards | {head} |")
    print("|---|---|---|" + "---|" * len(wide))
    for name, per_case in sorted(seconds.items()):
        in_fwd = {c: s / forwards[c, n] for c, (s, n) in per_case.items()}
        med_s = statistics.median(s for s, _ in per_case.values())
        med_f = statistics.median(in_fwd.values())
        cells = " | ".join(
            f"{per_case[c][0] / med_s:.0f}×, **{in_fwd[c] / med_f:.1f}×**" if c in per_case else "n/a (no record)"
            for c in wide
        )
        print(f"| {name} | {med_s:.2f} | {med_f:.0f} | {cells} |")
    if "exact" in seconds:  # one circuit per edge: its fair unit is a forward pass per edge
        per_edge = {c: s / edges[c] / forwards[c, n] for c, (s, n) in seconds["exact"].items()}
        med = statistics.median(per_edge.values())
        print(
            f"\nexact, per edge and forward pass, × the median case's (median {statistics.median(edges.values())} edges): "
            + ", ".join(f"case {c} ({edges[c]} edges): {per_edge[c] / med:.1f}×" for c in wide if c in per_edge)
        )
    fwd_med = statistics.median(forwards.values())
    print(
        "\nforward pass, × the median case's: "
        + ", ".join(f"case {c}: {max(forwards[k] for k in forwards if k[0] == c) / fwd_med:.0f}×" for c in wide)
    )


if __name__ == "__main__":
    main()
