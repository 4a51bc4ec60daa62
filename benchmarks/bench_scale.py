"""EAP and ACDC on GPT-2-shaped models, against auto-circuit and plain forward passes, as ratios.

Three random models with LayerNorm (pre-LN, GELU, as GPT-2): ``small`` (2 layers x 4
heads, d_model 64), ``medium`` (4 x 8, d_model 256) and ``gpt2-small`` (12 x 12,
d_model 768, d_mlp 3072, vocabulary 50,257: GPT-2-small's shape, 32,936 edges). Each
gets 32 random clean and corrupted sequences of 16 tokens. Figures:

- EAP: ours (engine built inside the timed call) against auto-circuit's
  ``mask_gradient_prune_scores`` on a wrapped copy of the same model, and against three
  forward passes of a copy *without* TransformerLens's hook flags (``use_attn_result``,
  ``use_split_qkv_input``, ``use_hook_mlp_in``: they make TransformerLens slower, so a
  reference with them would flatter us), under ``inference_mode``;
- the peak memory of each EAP, each library alone in a fresh process: the process's
  peak resident set during the run minus what it held when the run started (model,
  data and imports), the peak reset just before (``/proc/self/clear_refs``);
- ACDC (resample ablation, KL to the full model, auto-circuit's ``acdc_prune_scores``)
  per threshold, on the sizes where auto-circuit finishes in minutes.

    python benchmarks/bench_scale.py [--sizes small,medium,gpt2-small] [--repeats K] [--json out.json]

auto-circuit must be installed with ``--no-deps`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
from bench_methods import _code_version, ac_loader, interleaved, med  # noqa: E402  (the auto-circuit shim too)

SIZES = {  # n_layers, n_heads, d_model, d_mlp, d_vocab
    "small": (2, 4, 64, 256, 100),
    "medium": (4, 8, 256, 1024, 1000),
    "gpt2-small": (12, 12, 768, 3072, 50257),
}
BATCH, SEQ = 32, 16
# ACDC thresholds per size: auto-circuit's MSE-ACDC exponents on the small model; the
# medium one at two thresholds only (auto-circuit costs one forward pass per edge per
# threshold); none at GPT-2 size (33k edges: days of auto-circuit passes).
ACDC_THRESHOLDS = {"small": [10.0**e for e in range(-6, 0)], "medium": [1e-3, 1e-2], "gpt2-small": []}
TARGETS = {"eap_speedup": 3.0, "eap_vs_3fwd": 1.5, "acdc_speedup": 3.0, "eap_peak_gb": 4.0}


def make_model(size: str, hooks: bool = True):
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    L, H, D, M, V = SIZES[size]
    cfg = HookedTransformerConfig(
        n_layers=L, n_heads=H, d_model=D, d_head=D // H, d_mlp=M, d_vocab=V, n_ctx=SEQ, act_fn="gelu",
        normalization_type="LN", use_attn_result=hooks, use_split_qkv_input=hooks, use_hook_mlp_in=hooks, seed=0,
    )  # fmt: skip
    model = HookedTransformer(cfg).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def make_task(model):
    from interpbench import DiscoveryTask, LoadedModel, registry
    from interpbench.schemas import Circuit

    V = model.cfg.d_vocab
    generator = torch.Generator().manual_seed(0)
    clean, corrupted = (torch.randint(0, V, (BATCH, SEQ), generator=generator) for _ in range(2))
    loaded = LoadedModel(
        model=model, circuit=Circuit(level="edge", nodes=[], edges=[]), input_encoding={}, categorical=True
    )
    # The case only names the task: the model and data are this script's.
    return DiscoveryTask(case=registry.get_case("3"), loaded=loaded, clean=clean, corrupted=corrupted, seed=0)


def reset(task) -> None:
    for key in ("engine", "clean_logits", "metric"):
        task.__dict__.pop(key, None)


def ours_eap(task):
    from interpbench.plugins.methods.eap import EAPConfig, run_eap

    reset(task)
    return run_eap(task, EAPConfig(ablation="resample"))


def auto_circuit_model(model):
    import copy

    from auto_circuit.utils.graph_utils import patchable_model

    return patchable_model(
        copy.deepcopy(model), factorized=True, slice_output="not_first_seq", seq_len=None, separate_qkv=True,
        device=torch.device("cpu"),
    )  # fmt: skip


def theirs_eap(pm, loader):
    from auto_circuit.prune_algos.mask_gradient import mask_gradient_prune_scores
    from auto_circuit.types import AblationType

    return mask_gradient_prune_scores(
        pm, loader, None, grad_function="logit", answer_function="avg_val", mask_val=0.0,
        ablation_type=AblationType.RESAMPLE,
    )  # fmt: skip


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024


def reset_peak() -> float:
    """Reset the process's peak resident set (Linux: ``clear_refs`` 5) to what it holds
    now, and return that: building the model can peak above any method run, which would
    hide the run's own peak behind it."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_mb("VmRSS")


def child(which: str, size: str) -> dict:
    """One EAP in this fresh process: its seconds and the rise of the peak resident set."""
    torch.set_num_threads(1)
    model = make_model(size)
    task = make_task(model)
    if which == "ours":
        run = lambda: ours_eap(task)  # noqa: E731
    else:
        pm, loader = auto_circuit_model(model), ac_loader(task.clean, task.corrupted)
        run = lambda: theirs_eap(pm, loader)  # noqa: E731
    before = reset_peak()
    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0
    return dict(seconds=seconds, peak_rise_mb=_status_mb("VmHWM") - before, resident_before_mb=before)


def in_fresh_process(which: str, size: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, "--sizes", size], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_eap(size: str, repeats: int) -> dict:
    from interpbench.siit.train import plain_copy

    model = make_model(size)
    task = make_task(model)
    pm, loader = auto_circuit_model(model), ac_loader(task.clean, task.corrupted)
    plain = plain_copy(model)

    def three_forwards():
        with torch.inference_mode():
            for _ in range(3):
                plain(task.clean)

    fns = {
        "ours": lambda: ours_eap(task),
        "auto_circuit": lambda: theirs_eap(pm, loader),
        "three_forwards": three_forwards,
    }
    times = interleaved(fns, repeats, warmup=1 if size != "gpt2-small" else 0)
    m = {k: med(v) for k, v in times.items()}
    return dict(
        edges=len(task.graph.edges),
        auto_circuit_edges=len(pm.edges),
        seconds=m,
        raw_seconds=times,
        speedup=m["auto_circuit"] / m["ours"],
        ours_over_3fwd=m["ours"] / m["three_forwards"],
        memory={"ours": in_fresh_process("ours", size), "auto_circuit": in_fresh_process("auto_circuit", size)},
    )


def bench_acdc(size: str, repeats: int) -> dict:
    from auto_circuit.prune_algos.ACDC import acdc_prune_scores

    from interpbench import kl_from_baseline
    from interpbench.plugins.methods.acdc import acdc

    model = make_model(size)
    task = make_task(model)
    pm, loader = auto_circuit_model(model), ac_loader(task.clean, task.corrupted)
    rows = []
    for threshold in ACDC_THRESHOLDS[size]:
        exp = round(float(torch.tensor(threshold).log10()))

        def ours():
            reset(task)
            return acdc(task, [threshold], kl_from_baseline(task.clean_logits), "resample")

        def theirs():
            return acdc_prune_scores(pm, loader, None, tao_exps=[exp], tao_bases=[1], faithfulness_target="kl_div")

        times = interleaved({"ours": ours, "auto_circuit": theirs}, repeats, warmup=0)
        m = {k: med(v) for k, v in times.items()}
        (kept,), passes = ours()
        rows.append(
            dict(
                threshold=threshold, seconds=m, raw_seconds=times, speedup=m["auto_circuit"] / m["ours"],
                kept_fraction=len(kept) / len(task.graph.edges), our_batched_passes=passes,
            )
        )  # fmt: skip
    return dict(edges=len(task.graph.edges), thresholds=rows)


def bench_acdc_start(size: str, receivers: int, threshold: float = 0.01) -> dict:
    """ACDC where a whole run is too long to time (GPT-2 size): both libraries visit the
    same first receivers from the output (ours: ``acdc(receivers=...)``; auto-circuit:
    its own ``acdc_prune_scores`` given only the edges into them), each timed once with
    its set-up (our engine's clean pass; its source ablations and clean cache). The full
    run is then extrapolated for auto-circuit, whose cost per edge is one forward pass
    from the edge's receiver's layer: its time per edge here, scaled per edge by a plain
    forward from that layer against one from the last layer."""
    from auto_circuit.prune_algos.ACDC import acdc_prune_scores

    from interpbench import kl_from_baseline
    from interpbench.plugins.methods.acdc import acdc
    from interpbench.siit.train import plain_copy

    model = make_model(size)
    task = make_task(model)
    graph, L = task.graph, model.cfg.n_layers
    visited = list(reversed(graph.receivers))[:receivers]
    names = {receiver.name for receiver in visited}
    ours_visited = {i for i, (_, r) in enumerate(graph.edges) if r in names}
    our_edges = len(ours_visited)

    reset(task)
    before = reset_peak()
    t0 = time.perf_counter()
    (kept,), passes = acdc(task, [threshold], kl_from_baseline(task.clean_logits), "resample", receivers=receivers)
    ours = time.perf_counter() - t0
    peak = _status_mb("VmHWM") - before
    reset(task)

    pm, loader = auto_circuit_model(model), ac_loader(task.clean, task.corrupted)
    dests = sorted({(e.dest.layer, e.dest.name) for e in pm.edges}, reverse=True)[:receivers]
    every_edge, pm.edges = pm.edges, {e for e in pm.edges if (e.dest.layer, e.dest.name) in dests}
    exp = round(float(torch.tensor(threshold).log10()))
    t0 = time.perf_counter()
    acdc_prune_scores(pm, loader, None, tao_exps=[exp], tao_bases=[1], faithfulness_target="kl_div")
    theirs = time.perf_counter() - t0
    their_edges, pm.edges = len(pm.edges), every_edge

    # A plain forward from each layer (what auto-circuit's test of an edge into it costs).
    plain = plain_copy(model)
    with torch.inference_mode():
        _, cache = plain.run_with_cache(task.clean, names_filter=lambda n: n.endswith("hook_resid_pre"))
        from_layer = []
        for layer in range(L):
            t0 = time.perf_counter()
            plain(cache[f"blocks.{layer}.hook_resid_pre"], start_at_layer=layer)
            from_layer.append(time.perf_counter() - t0)
    del cache
    layer_of = {r.name: min(r.layer, L - 1) for r in graph.receivers}  # the output is read after the last layer
    start = [layer_of[r] for _, r in graph.edges]
    per_edge = theirs / their_edges
    theirs_full = sum(per_edge * from_layer[s] / from_layer[L - 1] for s in start)
    return dict(
        threshold=threshold, receivers=[r.name for r in visited], our_edges=our_edges, their_edges=their_edges,
        seconds=dict(ours=ours, auto_circuit=theirs), speedup=(theirs / their_edges) / (ours / our_edges),
        our_passes=passes, kept=len(kept & ours_visited), peak_rise_mb=peak, plain_forward_from_layer_s=from_layer,
        auto_circuit_full_run_estimate_s=theirs_full, total_edges=len(graph.edges),
    )  # fmt: skip


def table(res: dict) -> str:
    lines = [
        "| model | edges | EAP ours s | auto-circuit s | **speedup** (≥ 3×) | 3 plain forwards s | **ours / 3 fwd** (≤ 1.5) "
        "| peak rise ours MB (< 4096) | auto-circuit MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, r in res["eap"].items():
        s = r["seconds"]
        lines.append(
            f"| {size} | {r['edges']} | {s['ours']:.3f} | {s['auto_circuit']:.3f} | **{r['speedup']:.1f}×** "
            f"| {s['three_forwards']:.3f} | **{r['ours_over_3fwd']:.2f}** | {r['memory']['ours']['peak_rise_mb']:.0f} "
            f"| {r['memory']['auto_circuit']['peak_rise_mb']:.0f} |"
        )
    lines += [
        "",
        "| model | threshold | edges kept | ours s | auto-circuit s | **speedup** (≥ 3×) |",
        "|---|---|---|---|---|---|",
    ]
    for size, r in res["acdc"].items():
        for row in r["thresholds"]:
            s = row["seconds"]
            lines.append(
                f"| {size} | {row['threshold']:g} | {row['kept_fraction']:.0%} | {s['ours']:.3f} "
                f"| {s['auto_circuit']:.3f} | **{row['speedup']:.1f}×** |"
            )
    for size, r in res.get("acdc_start", {}).items():
        s = r["seconds"]
        lines += [
            "",
            f"ACDC on {size}, threshold {r['threshold']:g}, the first {len(r['receivers'])} receivers from the output "
            f"({', '.join(r['receivers'])}): ours {s['ours']:.1f} s for {r['our_edges']} edges, auto-circuit "
            f"{s['auto_circuit']:.1f} s for {r['their_edges']} (its embeddings are one sender): **{r['speedup']:.1f}×** "
            f"per edge; our peak rise {r['peak_rise_mb']:.0f} MB; auto-circuit's whole run of {r['total_edges']} "
            f"edges extrapolated: {r['auto_circuit_full_run_estimate_s'] / 3600:.1f} h.",
        ]
    return "\n".join(lines)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma list of " + ", ".join(SIZES))
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats (1 at GPT-2 size); medians reported")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--parts", default="eap,acdc,acdc-start", help="comma list of eap, acdc, acdc-start")
    ap.add_argument("--acdc-receivers", type=int, default=2, help="receivers ACDC visits at GPT-2 size (acdc-start)")
    ap.add_argument("--child", choices=["ours", "auto_circuit"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.sizes)))
        return {}
    torch.set_num_threads(1)
    sizes = args.sizes.split(",")
    res: dict = dict(code=_code_version(), batch=BATCH, seq=SEQ, torch_threads=1, cpu_count=os.cpu_count())
    parts = args.parts.split(",")
    res["eap"] = {s: bench_eap(s, 1 if s == "gpt2-small" else args.repeats) for s in sizes if "eap" in parts}
    res["acdc"] = {s: bench_acdc(s, args.repeats) for s in sizes if ACDC_THRESHOLDS[s] and "acdc" in parts}
    if "gpt2-small" in sizes and "acdc-start" in parts:
        res["acdc_start"] = {"gpt2-small": bench_acdc_start("gpt2-small", args.acdc_receivers)}
    res["targets"] = dict(
        eap_speedup={s: r["speedup"] >= TARGETS["eap_speedup"] for s, r in res["eap"].items()},
        eap_vs_3fwd={s: r["ours_over_3fwd"] <= TARGETS["eap_vs_3fwd"] for s, r in res["eap"].items()},
        eap_peak={s: r["memory"]["ours"]["peak_rise_mb"] < TARGETS["eap_peak_gb"] * 1024 for s, r in res["eap"].items()},
        acdc_speedup={s: all(t["speedup"] >= TARGETS["acdc_speedup"] for t in r["thresholds"]) for s, r in res["acdc"].items()},
        acdc_start_speedup={s: r["speedup"] >= TARGETS["acdc_speedup"] for s, r in res.get("acdc_start", {}).items()},
    )  # fmt: skip
    print(table(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    return res


if __name__ == "__main__":
    main()
