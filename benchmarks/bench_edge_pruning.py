"""Edge pruning against edge-SP, the method whose budget it is given, as ratios of method time.

For each case both run at their defaults (300 steps of 50 examples each), same seed, one
right after the other and ``--repeats`` times in turn, so that load on a shared machine hits
both alike; the ratio is of the medians. The headline edge AUROCs are printed beside it, so
that a speed is never read without the quality it came with.

    python benchmarks/bench_edge_pruning.py --cases 3,12 --loader siit [--repeats 3] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

import interpbench

METHODS = ("edge-sp", "edge-pruning")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="3,12")
    parser.add_argument("--loader", default="siit")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    print("| case | edge-sp s | edge-pruning s | ratio | AUROC edge-sp | AUROC edge-pruning |")
    print("|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        seconds: dict[str, list[float]] = {m: [] for m in METHODS}
        auroc: dict[str, float | None] = {}
        for _ in range(args.repeats):
            for method in METHODS:
                result = interpbench.run(case=case, method=method, loader=args.loader)
                assert result.timings is not None
                seconds[method].append(result.timings.method_seconds)
                auroc[method] = result.metrics.get("edge_auroc")
        sp, ep = (statistics.median(seconds[m]) for m in METHODS)
        rows.append(dict(case=case, seconds=seconds, auroc=auroc, ratio=ep / sp))
        print(
            f"| {case} | {sp:.1f} | {ep:.1f} | {ep / sp:.2f} | {auroc['edge-sp']:.3f} | {auroc['edge-pruning']:.3f} |",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(loader=args.loader, repeats=args.repeats, threads=args.threads, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
