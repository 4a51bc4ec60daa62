"""EAP-IG over the input (``eap-ig``) and over activations (``eap-ig-activations``), timed
in plain forward passes of the same model.

The reference is ``task.model(clean)`` under ``torch.inference_mode`` (TransformerLens,
no hooks), on the same clean tokens, timed in the same run: each repeat times the
forward pass and each method one after the other, so that load on a shared machine hits
all alike. A method's time includes building the engine (the clean and corrupted sender
outputs) and the clean logits, as in a run. Figures are medians over ``--repeats`` after
one warm-up call of each.

    python benchmarks/bench_eap_variants.py [--cases 3,39] [--loader siit] [--repeats 3] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from interpbench.plugins.methods.eap import (
    EAPIGActivationsConfig,
    EAPIGConfig,
    node_groups,
    run_eap_ig,
    run_eap_ig_activations,
)
from interpbench.runner import make_task


def reset(task) -> None:
    """Drop the task's cached engine and clean logits so the next call rebuilds them."""
    for key in ("engine", "clean_logits", "metric"):
        task.__dict__.pop(key, None)


def bench_case(case: str, loader: str, repeats: int) -> dict:
    task = make_task(case, loader, seed=0)

    def forward():
        with torch.inference_mode():
            task.model(task.clean)

    def method(run, config):
        def call():
            reset(task)
            run(task, config)

        return call

    ig, ig_act = EAPIGConfig(), EAPIGActivationsConfig()
    fns = {
        "forward": forward,
        "eap-ig": method(run_eap_ig, ig),
        "eap-ig-activations": method(run_eap_ig_activations, ig_act),
    }
    times: dict[str, list[float]] = {name: [] for name in fns}
    for repeat in range(repeats + 1):  # the first round warms up
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if repeat:
                times[name].append(time.perf_counter() - t0)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    cfg = task.model.cfg
    passes = {"eap-ig": ig.steps, "eap-ig-activations": ig_act.steps * len(node_groups(task))}
    return dict(
        case=case,
        loader=loader,
        shape=dict(batch=tuple(task.clean.shape), n_layers=cfg.n_layers, n_heads=cfg.n_heads, d_model=cfg.d_model),
        seconds=times,
        median_seconds=medians,
        gradient_passes=passes,
        in_forward_passes={m: medians[m] / medians["forward"] for m in passes},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default="3,39")
    parser.add_argument("--loader", default="siit")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    print("| case | batch × positions | forward ms | method | gradient passes | ms | in forward passes |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        row = bench_case(case, args.loader, args.repeats)
        rows.append(row)
        forward_ms = 1000 * row["median_seconds"]["forward"]
        for m, ratio in row["in_forward_passes"].items():
            print(
                f"| {case} | {row['shape']['batch'][0]} × {row['shape']['batch'][1]} | {forward_ms:.1f} | {m} "
                f"| {row['gradient_passes'][m]} | {1000 * row['median_seconds'][m]:.0f} | {ratio:.1f} |",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(threads=args.threads, repeats=args.repeats, rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
