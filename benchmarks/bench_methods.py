"""Speed of InterpBench's patching engine and methods against auto-circuit, as ratios.

Same model (case 3, frac_prevs, compiled by our tracr loader), same clean/corrupted
token tensors, same per-(sender, receiver) graph granularity, same thresholds, same
ablation (resample: auto-circuit's ACDC only resamples) and, for ACDC, the same
metric. Every figure is the median of several repeats; our and auto-circuit's runs
are interleaved within each repeat so that load on a shared machine hits both alike.

    python benchmarks/bench_methods.py [--threads N] [--repeats K] [--json out.json] [--profile]

auto-circuit must be installed with ``--no-deps`` (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
import types

os.environ.setdefault("TQDM_DISABLE", "1")  # auto-circuit's progress bars: off (helps it, not us)

import torch  # noqa: E402

# auto-circuit == 1.0.1 imports TransformerLens's KV cache from its pre-3.x location.
import transformer_lens  # noqa: E402
from transformer_lens.cache.key_value_cache import TransformerLensKeyValueCache  # noqa: E402

_shim = types.ModuleType("transformer_lens.past_key_value_caching")
_shim.HookedTransformerKeyValueCache = TransformerLensKeyValueCache
sys.modules.setdefault(_shim.__name__, _shim)
if not hasattr(transformer_lens, "HookedTransformerKeyValueCache"):
    transformer_lens.HookedTransformerKeyValueCache = TransformerLensKeyValueCache

try:
    from auto_circuit.data import PromptDataLoader, PromptDataset
    from auto_circuit.prune_algos.ACDC import acdc_prune_scores
    from auto_circuit.prune_algos.mask_gradient import mask_gradient_prune_scores
    from auto_circuit.utils.graph_utils import patchable_model
except ImportError as e:  # pragma: no cover - depends on the optional reference
    sys.exit(f"auto-circuit is not importable ({e}); see benchmarks/README.md for how to install it")

from interpbench.engine.validation import l2_from_baseline  # noqa: E402
from interpbench.graph import fold_node  # noqa: E402,F401
from interpbench.plugins.methods.acdc import acdc  # noqa: E402
from interpbench.plugins.methods.eap import EAPConfig, run_eap  # noqa: E402
from interpbench.runner import make_task  # noqa: E402
from interpbench.task import DiscoveryTask  # noqa: E402

CASE = "3"
ABLATION = "resample"
# auto-circuit's own "MSE ACDC" algorithm (prune_algos.MSE_ACDC_PRUNE_ALGO): tao = 1 * 10**e.
TAO_EXPS = list(range(-10, 0))
THRESHOLDS = [1 * 10.0**e for e in TAO_EXPS]
SWEEP_T = 32
TARGETS = {
    "acdc_speedup": 10.0,
    "eap_speedup": 2.0,
    "eap_vs_3fwd": 1.5,
}  # and a sweep of T circuits: <= T/4 single passes


# --- naming: our graph <-> auto-circuit's ------------------------------------------------


def ac_node(name: str, n_layers: int) -> str:
    """auto-circuit's node name for one of our sender/receiver names. Both embedding
    senders map to "Resid Start" (auto-circuit's single source blocks.0.hook_resid_pre)."""
    if name in ("hook_embed", "hook_pos_embed"):
        return "Resid Start"
    layer = int(name.split(".")[1])
    head = name[name.index("[") + 1 : -1] if "[" in name else None
    if ".attn.hook_result[" in name:
        return f"A{layer}.{head}"
    for qkv in "qkv":
        if f".hook_{qkv}_input[" in name:
            return f"A{layer}.{head}.{qkv.upper()}"
    if name.endswith("hook_mlp_out") or name.endswith("hook_mlp_in"):
        return f"MLP {layer}"
    if name.endswith("hook_resid_post") and layer == n_layers - 1:
        return "Resid End"
    raise ValueError(name)


def fold_edges(task, indices) -> set[str]:
    L = task.model.cfg.n_layers
    return {f"{ac_node(s, L)}->{ac_node(r, L)}" for s, r in (task.graph.edges[i] for i in indices)}


# --- setup -----------------------------------------------------------------------------


def subtask(task, clean, corrupted):
    """A task over other token tensors (same model, case and loader output)."""
    return DiscoveryTask(case=task.case, loaded=task.loaded, clean=clean, corrupted=corrupted, seed=task.seed)


def reset(task) -> None:
    """Drop the task's cached engine and clean logits so the next use rebuilds them."""
    for key in ("engine", "clean_logits", "metric"):
        task.__dict__.pop(key, None)


def ac_loader(clean, corrupted):
    """auto-circuit's data: one batch holding every prompt pair. Its "answers" index the
    single output channel at every non-BOS position, so answer_function="avg_val" is the
    mean output value (our EAP target is its sum: the same gradient up to a constant)."""
    B, P = clean.shape
    answers = list(torch.zeros(B, P - 1, 1, dtype=torch.long))
    dataset = PromptDataset(clean, corrupted, answers, answers)
    return PromptDataLoader(dataset, seq_len=None, diverge_idx=0, batch_size=B, shuffle=False)


def ac_model(task):
    """auto-circuit's patchable model wrapping a copy of OUR HookedTransformer: factorized
    (edge-level), q/k/v separate, one edge per sender/receiver pair (seq_len=None), output
    sliced to the non-BOS positions as in its tracr tasks."""
    model = copy.deepcopy(task.model)
    return patchable_model(
        model,
        factorized=True,
        slice_output="not_first_seq",
        seq_len=None,
        separate_qkv=True,
        device=torch.device("cpu"),
    )


# --- timing ----------------------------------------------------------------------------


def interleaved(fns: dict, repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each fn, the fns interleaved within each repeat."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def med(xs: list[float]) -> float:
    return statistics.median(xs)


# --- the three benchmarks ----------------------------------------------------------------


def bench_acdc(task, pm, loader, repeats: int) -> dict:
    T = len(THRESHOLDS)

    def ours_cold():  # everything from the model and tokens: engine, clean logits, ACDC
        reset(task)
        metric = l2_from_baseline(task.clean_logits)
        return acdc(task, THRESHOLDS, metric, ABLATION)

    warm_metric = l2_from_baseline(task.clean_logits)

    def ours_warm():  # engine and clean logits already built
        return acdc(task, THRESHOLDS, warm_metric, ABLATION)

    def ours_one_at_a_time():  # no lockstep: one ACDC run per threshold
        return [acdc(task, [t], warm_metric, ABLATION) for t in THRESHOLDS]

    def theirs():
        return acdc_prune_scores(pm, loader, None, tao_exps=TAO_EXPS, tao_bases=[1], faithfulness_target="mse")

    times = interleaved(
        {
            "ours_cold": ours_cold,
            "ours_warm": ours_warm,
            "ours_one_at_a_time": ours_one_at_a_time,
            "auto_circuit": theirs,
        },
        repeats,
    )
    per_thr = {k: med(v) / T for k, v in times.items()}

    # Circuits, threshold by threshold (untimed): ours folded to auto-circuit's names.
    reset(task)
    kept, passes = acdc(task, THRESHOLDS, l2_from_baseline(task.clean_logits), ABLATION)
    circuits = []
    for exp, t, ours_kept in zip(TAO_EXPS, THRESHOLDS, kept):
        ps = acdc_prune_scores(pm, loader, None, tao_exps=[exp], tao_bases=[1], faithfulness_target="mse")
        theirs_kept = {e.name for e in pm.edges if torch.isinf(e.prune_score(ps)).item()}
        ours_folded = fold_edges(task, ours_kept)
        circuits.append(
            dict(
                threshold=t,
                ours=sorted(task.graph.edges[i][0] + "->" + task.graph.edges[i][1] for i in ours_kept),
                ours_folded=sorted(ours_folded),
                auto_circuit=sorted(theirs_kept),
                same=ours_folded == theirs_kept,
            )
        )
    return dict(
        thresholds=THRESHOLDS,
        seconds_per_threshold=per_thr,
        raw_seconds=times,
        our_batched_passes=passes,
        speedup_cold=per_thr["auto_circuit"] / per_thr["ours_cold"],
        speedup_warm=per_thr["auto_circuit"] / per_thr["ours_warm"],
        speedup_one_at_a_time=per_thr["auto_circuit"] / per_thr["ours_one_at_a_time"],
        circuits=circuits,
        all_same=all(c["same"] for c in circuits),
    )


def bench_eap(task, pm, repeats: int, batch_sizes=(256, 512)) -> dict:
    out = {}
    cfg = EAPConfig(ablation=ABLATION)
    for B in batch_sizes:
        reps = -(-B // task.clean.shape[0])
        clean, corrupted = task.clean.repeat(reps, 1)[:B], task.corrupted.repeat(reps, 1)[:B]
        sub = subtask(task, clean, corrupted)
        loader = ac_loader(clean, corrupted)

        def ours_cold():
            reset(sub)
            return run_eap(sub, cfg)

        def ours_warm():
            return run_eap(sub, cfg)

        def theirs():
            return mask_gradient_prune_scores(
                pm,
                loader,
                None,
                grad_function="logit",
                answer_function="avg_val",
                mask_val=0.0,
                ablation_type=_resample(),
            )

        def three_forwards():
            with torch.inference_mode():
                for _ in range(3):
                    sub.model(clean)

        times = interleaved(
            {"ours_cold": ours_cold, "ours_warm": ours_warm, "auto_circuit": theirs, "three_forwards": three_forwards},
            repeats,
        )
        m = {k: med(v) for k, v in times.items()}
        # What the two rank highest (untimed), in auto-circuit's names.
        reset(sub)
        ours_scores = {(e.sender, e.receiver): e.score for e in run_eap(sub, cfg).edges}
        folded: dict[str, float] = {}
        L = task.model.cfg.n_layers
        for (s, r), v in ours_scores.items():
            key = f"{ac_node(s, L)}->{ac_node(r, L)}"
            folded[key] = folded.get(key, 0.0) + v
        ps = theirs()
        theirs_scores = {e.name: abs(e.prune_score(ps).item()) for e in pm.edges}
        out[B] = dict(
            n_distinct_inputs=len({tuple(x) for x in clean.tolist()}),
            seconds=m,
            raw_seconds=times,
            speedup_cold=m["auto_circuit"] / m["ours_cold"],
            speedup_warm=m["auto_circuit"] / m["ours_warm"],
            ours_cold_over_3fwd=m["ours_cold"] / m["three_forwards"],
            ours_warm_over_3fwd=m["ours_warm"] / m["three_forwards"],
            top_ours=sorted(folded, key=folded.get, reverse=True)[:4],
            # auto-circuit's scores are gradients of the batch-mean output: signed sums
            # over examples, which cancel on linear paths (corrupted inputs permute clean
            # ones); ours average |per-example| attributions.
            top_auto_circuit={
                k: theirs_scores[k] for k in sorted(theirs_scores, key=theirs_scores.get, reverse=True)[:4]
            },
        )
    return out


def _resample():
    from auto_circuit.types import AblationType

    return AblationType.RESAMPLE


def batched_vs_singles(task, masks, ablation: str, repeats: int) -> dict:
    """One batched engine.run over T circuits against T single-circuit calls, and
    against one plain forward pass of the model."""
    engine, T = task.engine, len(masks)

    def batched():
        with torch.no_grad():
            return engine.run(masks, ablation)

    def singles():
        with torch.no_grad():
            return [engine.run(masks[i : i + 1], ablation) for i in range(T)]

    def plain_forward():
        with torch.inference_mode():
            return task.model(task.clean)

    # Same logits either way; count the node activations each way computes.
    assert torch.allclose(batched(), torch.cat(singles()), atol=1e-5)
    batched()
    evaluations = engine.node_evaluations
    evaluations_alone = 0
    for i in range(T):
        engine.run(masks[i : i + 1], ablation)
        evaluations_alone += engine.node_evaluations
    times = interleaved({"batched": batched, "singles": singles, "plain_forward": plain_forward}, repeats)
    m = {k: med(v) for k, v in times.items()}
    single = m["singles"] / T
    return dict(
        T=T,
        seconds=m,
        raw_seconds=times,
        one_single_pass=single,
        batched_in_single_passes=m["batched"] / single,
        speedup=m["singles"] / m["batched"],
        batched_in_plain_forwards=m["batched"] / m["plain_forward"],
        node_evaluations=dict(
            batched=evaluations,
            one_at_a_time=evaluations_alone,
            nodes_per_pass=task.graph.n_layers * (task.model.cfg.n_heads + int(task.graph.has_mlps)),
        ),
    )


def bench_sweep(task, repeats: int, T: int = SWEEP_T) -> dict:
    reset(task)
    engine = task.engine
    g = torch.Generator().manual_seed(0)
    masks = engine.edge_mask((torch.rand(T, len(task.graph.edges), generator=g) < 0.5).float())
    return {ablation: batched_vs_singles(task, masks, ablation, repeats) for ablation in ("zero", "resample")}


def bench_roc_sweep(task, repeats: int, ablation: str, walk: str, T: int = SWEEP_T) -> dict:
    """The nested circuits a ROC curve walks, from EAP's scores: thresholded at T
    quantiles (``walk="quantiles"``; tied scores make some circuits equal), or the top
    k edges of the ranking (ties broken by edge order) at T evenly spaced k from 1 to
    every edge (``walk="ranking"``; with T >= the number of edges, every point of the
    curve). Evaluated batched vs one at a time."""
    from interpbench.plugins.methods.eap import EAPConfig, run_eap

    reset(task)
    engine = task.engine
    scores = torch.tensor([e.score for e in run_eap(task, EAPConfig(ablation=ablation)).edges])
    if walk == "quantiles":
        kept = (scores[None] >= torch.quantile(scores, torch.linspace(0, 1, T))[:, None]).float()
    else:
        order = torch.argsort(scores, descending=True, stable=True)
        sizes = torch.linspace(1, len(scores), T).round().long()
        kept = (torch.arange(len(scores))[None] < sizes[:, None]).float()[:, torch.argsort(order)]
    masks = engine.edge_mask(kept)
    distinct = int(torch.unique(masks.flatten(1), dim=0).shape[0])
    return dict(walk=walk, distinct_circuits=distinct, **batched_vs_singles(task, masks, ablation, repeats))


# --- profiling -------------------------------------------------------------------------


def profile(task, top: int = 18) -> str:
    import cProfile
    import io
    import pstats

    buf = io.StringIO()
    metric = l2_from_baseline(task.clean_logits)
    for label, fn in (
        ("ACDC (ours, warm, 10 thresholds) x20", lambda: acdc(task, THRESHOLDS, metric, ABLATION)),
        ("EAP (ours, cold) x20", lambda: (reset(task), run_eap(task, EAPConfig(ablation=ABLATION)))),
    ):
        fn()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(20):
            fn()
        prof.disable()
        buf.write(f"\n== {label} ==\n")
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# --- report ----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def table(res: dict) -> str:
    a, e, s = res["acdc"], res["eap"], res["sweep"]
    ms = lambda x: f"{1000 * x:8.2f} ms"  # noqa: E731
    lines = []
    lines.append(
        f"machine: {res['machine']['cpu_count']} cores, torch threads {res['machine']['torch_threads']}, "
        f"torch {res['machine']['torch']}, {res['machine']['date']}, repeats {res['repeats']} (medians)"
    )
    c = res["code"]
    lines.append(
        f"code: interpbench {c['commit']}{' + uncommitted changes' if c['uncommitted_changes'] else ''}, "
        f"engine/acdc/eap sources sha256 {c['sources_sha256']}"
    )
    lines.append(
        f"graph: ours {res['graph']['ours_edges']} edges, auto-circuit {res['graph']['auto_circuit_edges']} edges "
        f"(folded ours == auto-circuit's: {res['graph']['folded_equal']})"
    )
    lines.append("")
    lines.append(
        f"ACDC, {len(a['thresholds'])} thresholds 1e-10..1e-1, L2/MSE metric, resample ablation, B={res['batch']}"
    )
    p = a["seconds_per_threshold"]
    lines.append(f"  auto-circuit                      {ms(p['auto_circuit'])} / threshold")
    lines.append(
        f"  ours (incl. engine build)         {ms(p['ours_cold'])} / threshold   speedup {a['speedup_cold']:6.2f}x   "
        f"target >= {TARGETS['acdc_speedup']:.0f}x: {verdict(a['speedup_cold'] >= TARGETS['acdc_speedup'])}"
    )
    lines.append(
        f"  ours (engine cached)              {ms(p['ours_warm'])} / threshold   speedup {a['speedup_warm']:6.2f}x"
    )
    lines.append(
        f"  ours (one threshold per run)      {ms(p['ours_one_at_a_time'])} / threshold   speedup {a['speedup_one_at_a_time']:6.2f}x"
    )
    lines.append(f"  same circuit at every threshold: {a['all_same']}; e.g. {a['circuits'][0]['auto_circuit']}")
    lines.append("")
    for B, r in e.items():
        m = r["seconds"]
        lines.append(f"EAP, B={B} ({r['n_distinct_inputs']} distinct inputs), resample ablation")
        lines.append(f"  auto-circuit (mask gradients)     {ms(m['auto_circuit'])}")
        lines.append(
            f"  ours run_eap (incl. engine build) {ms(m['ours_cold'])}   speedup {r['speedup_cold']:6.2f}x   "
            f"target >= {TARGETS['eap_speedup']:.0f}x: {verdict(r['speedup_cold'] >= TARGETS['eap_speedup'])}"
        )
        lines.append(f"  ours run_eap (engine cached)      {ms(m['ours_warm'])}   speedup {r['speedup_warm']:6.2f}x")
        lines.append(
            f"  3 plain forward passes            {ms(m['three_forwards'])}   ours/3fwd {r['ours_cold_over_3fwd']:5.2f} (cold), "
            f"{r['ours_warm_over_3fwd']:5.2f} (cached)   target <= {TARGETS['eap_vs_3fwd']}: "
            f"{verdict(r['ours_cold_over_3fwd'] <= TARGETS['eap_vs_3fwd'])}"
        )
    lines.append("")

    def sweep_lines(title: str, r: dict) -> None:
        m, n = r["seconds"], r["node_evaluations"]
        lines.append(title)
        lines.append(
            f"  {r['T']} single-circuit calls          {ms(m['singles'])}  ({ms(r['one_single_pass'])} each; "
            f"{n['one_at_a_time']} node evaluations, {n['nodes_per_pass']} nodes in the model)"
        )
        lines.append(
            f"  one batched call                  {ms(m['batched'])}  = {r['batched_in_single_passes']:5.2f} single passes "
            f"(speedup {r['speedup']:5.2f}x; {n['batched']} node evaluations)   target <= {r['T'] / 4:.0f}: "
            f"{verdict(r['batched_in_single_passes'] <= r['T'] / 4)}"
        )
        lines.append(
            f"  one plain forward pass            {ms(m['plain_forward'])}  (batched call = {r['batched_in_plain_forwards']:5.2f} of them)"
        )

    for label, r in res.get("roc_sweep", {}).items():
        sweep_lines(
            f"ROC sweep of EAP scores, {label}, T={r['T']} circuits ({r['distinct_circuits']} distinct), B={res['batch']}",
            r,
        )
    for ablation, r in s.items():
        sweep_lines(
            f"Stress case, not a sweep: T={r['T']} random circuits (no nesting), {ablation} ablation, B={res['batch']}",
            r,
        )
    return "\n".join(lines)


def _code_version() -> dict:
    """The git commit and a hash of the measured sources (the engine changes often)."""
    import hashlib
    import subprocess
    from pathlib import Path

    import interpbench

    root = Path(interpbench.__file__).parent
    files = ["engine/patching.py", "engine/passes.py", "plugins/methods/acdc.py", "plugins/methods/eap.py"]
    digest = hashlib.sha256(b"".join((root / f).read_bytes() for f in files)).hexdigest()[:12]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--", "."], capture_output=True, text=True
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "", False
    return dict(commit=commit, uncommitted_changes=dirty, sources_sha256=digest)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats per figure; medians reported")
    ap.add_argument("--json", help="write all figures here")
    ap.add_argument("--profile", action="store_true", help="also cProfile our ACDC and EAP")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # Case 3 has 4**4 = 256 distinct inputs; asking for 512 gets all 256.
    task = make_task(CASE, "tracr", seed=0, n_examples=512)
    B = task.clean.shape[0]
    pm = ac_model(task)
    loader = ac_loader(task.clean, task.corrupted)
    with torch.inference_mode():  # the wrapped copy computes what our model computes
        assert torch.allclose(pm(task.clean), task.model(task.clean), atol=1e-5)

    ours_folded = fold_edges(task, range(len(task.graph.edges)))
    theirs_names = {e.name for e in pm.edges}
    res = dict(
        machine=dict(
            cpu_count=os.cpu_count(),
            torch_threads=torch.get_num_threads(),
            torch=torch.__version__,
            python=platform.python_version(),
            platform=platform.platform(),
            date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        ),
        code=_code_version(),
        repeats=args.repeats,
        batch=B,
        graph=dict(
            ours_edges=len(task.graph.edges),
            auto_circuit_edges=len(pm.edges),
            folded_equal=ours_folded == theirs_names,
        ),
    )
    res["acdc"] = bench_acdc(task, pm, loader, args.repeats)
    res["eap"] = bench_eap(task, pm, args.repeats)
    res["sweep"] = bench_sweep(task, args.repeats)
    siit = make_task(CASE, "siit", seed=0, n_examples=512)
    compiled_18 = make_task("18", "tracr", seed=0, n_examples=B)  # 2 heads/layer, MLPs of 100 units
    siit_18 = make_task("18", "siit", seed=0, n_examples=B)
    res["roc_sweep"] = {
        "case 3 compiled, zero-except-embed, quantiles": bench_roc_sweep(
            task, args.repeats, "zero-except-embed", "quantiles"
        ),
        "case 3 compiled, zero-except-embed, ranking": bench_roc_sweep(
            task, args.repeats, "zero-except-embed", "ranking"
        ),
        "case 18 compiled, zero-except-embed, ranking": bench_roc_sweep(
            compiled_18, args.repeats, "zero-except-embed", "ranking"
        ),
        "case 3 SIIT zoo model, resample, quantiles": bench_roc_sweep(siit, args.repeats, "resample", "quantiles"),
        "case 3 SIIT zoo model, resample, ranking": bench_roc_sweep(siit, args.repeats, "resample", "ranking"),
        "case 18 SIIT zoo model, resample, quantiles": bench_roc_sweep(siit_18, args.repeats, "resample", "quantiles"),
    }
    res["targets"] = dict(
        acdc=res["acdc"]["speedup_cold"] >= TARGETS["acdc_speedup"],
        eap_vs_auto_circuit={B_: r["speedup_cold"] >= TARGETS["eap_speedup"] for B_, r in res["eap"].items()},
        eap_vs_3fwd={B_: r["ours_cold_over_3fwd"] <= TARGETS["eap_vs_3fwd"] for B_, r in res["eap"].items()},
        sweep={a: r["batched_in_single_passes"] <= r["T"] / 4 for a, r in res["sweep"].items()},
        roc_sweep={k: r["batched_in_single_passes"] <= r["T"] / 4 for k, r in res["roc_sweep"].items()},
    )
    print(table(res))
    if args.profile:
        reset(task)
        res["profile"] = profile(task)
        print(res["profile"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, default=str)
    return res


if __name__ == "__main__":
    main()
