"""Subnetwork probing with minibatches (the default) against ACDC's and InterpBench's full-batch steps, as ratios.

For each case, edge-SP and node-SP run with full-batch steps (``batch_size=None``: every
step on the whole data) and with ``batch_size``, same seed, same step count, one right after the other so
that load on a shared machine hits both alike. Prints the method-time ratio and the headline AUROCs of
both, so the speed is never bought with a silent loss of quality.

    python benchmarks/sp_minibatch.py --cases 3,13,24 --batch-size 50 [--json out.json]
"""

from __future__ import annotations

import argparse
import json

import interpbench


def measure(case: str, method: str, loader: str, config: dict) -> tuple[float, float | None]:
    result = interpbench.run(case=case, method=method, loader=loader, config=config)
    metric = "edge_auroc" if method == "edge-sp" else "node_auroc"
    return result.timings.method_seconds, result.metrics.get(metric)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="3,13,24")
    parser.add_argument("--loader", default="siit")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = []
    print("| case | method | full-batch s | minibatch s | ratio | AUROC full | AUROC minibatch |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        for method in ("edge-sp", "node-sp"):
            full_s, full_auc = measure(case, method, args.loader, {"batch_size": None})
            mini_s, mini_auc = measure(case, method, args.loader, {"batch_size": args.batch_size})
            rows.append(dict(case=case, method=method, full_s=full_s, mini_s=mini_s, full=full_auc, mini=mini_auc))
            print(
                f"| {case} | {method} | {full_s:.1f} | {mini_s:.1f} | {mini_s / full_s:.2f} "
                f"| {full_auc:.3f} | {mini_auc:.3f} |",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(batch_size=args.batch_size, loader=args.loader, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
