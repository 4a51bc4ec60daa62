"""Strict Interchange Intervention Training (SIIT) of an LL model against a compiled HL model.

Each step draws a batch of (base, source) training pairs and combines three losses,
all over positions 1.. (cross-entropy against HL argmax labels for categorical cases,
MSE for numerical ones):

(a) IIT: each sample gets a random mapped HL node; HL and LL both run on the base
    input with that node's output taken from the source input, and the LL output is
    trained to match the HL output;
(b) strict: each sample gets a random unmapped LL node, resampled from the source
    input; the LL output must still match the HL output on the base input;
(c) behaviour: the LL output on the plain base input matches the HL output.

A hard-track model (``structure``) implements one HL head by a group of LL heads: its
IIT samples patch the whole group, and a ``structure_share`` of them a random subset,
whose target is the HL output with the node from the source or on the base input, as
the structure's rule says; a subset that must not follow the source is also pulled
towards the clean output distribution of the same pass (``structure_match_weight``).

With ``separate_steps`` off (the default) the three terms share one forward pass
(the batch is stacked three times, each copy with its own per-sample patches) and one
optimiser step on their weighted sum; with it on, each term gets its own step, as in
InterpBench. With ``source_grad`` on (the default) the source inputs ride in the same
pass and the patched-in activations keep their gradient; InterpBench detaches them,
and then nothing pushes an unmapped MLP towards an input-independent output: measured
here, cases 8, 14 and 24 stalled at strict accuracy 0.90-0.93 (the last-layer or
unmapped MLP acting as a decoder) with detached sources and passed in 100-200 steps
without. ``strict_sampling="subset"`` resamples a random subset of unmapped nodes per
strict sample (InterpBench: one node). The learning rate follows a schedule over ``max_steps``; every
``eval_every`` steps the validation accuracy, IIA and strict accuracy are measured,
training stops once all three reach ``threshold``, and a run that stalls or collapses
goes back to its best state (weights and optimiser) and continues from there.

Everything random comes from one ``torch.Generator`` seeded with ``config.seed``
(data from ``random.Random(seed)``), so a seed gives the same weights, and the
checkpoint (weights, optimiser, step, generator state, best state, history), written
atomically every ``checkpoint_every`` steps, lets ``train(..., resume=True)`` carry on
exactly where an interrupted run stopped. A SIGINT or SIGTERM lets the step in flight
finish, writes the checkpoint there and raises ``TrainingInterrupted`` (a second one stops
at once), so stopping a long training loses nothing.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from interpbench.formats.atomic import write_atomic
from interpbench.siit.config import SIITConfig, ll_config
from interpbench.siit.correspondence import Correspondence, build_correspondence, node_hook, place_structure
from interpbench.siit.evaluate import (
    EvalData,
    EvalResult,
    contrast_of,
    evaluate,
    headline_score,
    hl_labels,
    make_eval_data,
)
from interpbench.siit.patching import collect, hooks_for, joint_forward, patched_forward

CHECKPOINT = "checkpoint.pt"
#: what a finished training writes (and the zoo installs)
FILES = ("model.safetensors", "config.json", "circuit.json", "meta.json")


class TrainingInterrupted(KeyboardInterrupt):
    """A training stopped by a signal, after writing its checkpoint (the message says where)."""


@dataclass
class Progress:
    """What the progress callback receives after every step (and on each evaluation)."""

    event: str  # "step" | "eval" | "restore" | "done"
    step: int
    max_steps: int
    loss: dict[str, float]
    lr: float
    elapsed: float
    metrics: EvalResult | None = None  # on "eval" and "done"
    passed: bool = False


@dataclass
class TrainResult:
    out_dir: Path
    passed: bool
    steps: int
    seconds: float
    metrics: EvalResult
    model: Any  # the LL HookedTransformer that was saved
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Setup:
    case: Any
    compiled: Any
    hl: Any
    categorical: bool
    ll_cfg: Any
    corr: Correspondence
    train_x: torch.Tensor
    train_y: torch.Tensor
    eval_data: EvalData
    data_info: dict[str, Any]


# --- setup ------------------------------------------------------------------------------


def _get_case(case):
    if isinstance(case, str):
        from interpbench import registry

        return registry.get_case(case)
    return case


@torch.no_grad()
def _hl_targets(hl, x: torch.Tensor, categorical: bool, chunk: int = 4096) -> torch.Tensor:
    return torch.cat([hl_labels(hl(x[i : i + chunk]), categorical) for i in range(0, len(x), chunk)])


def prepare(case, config: SIITConfig, compiled=None) -> _Setup:
    """Compile (or load) the HL model, build the LL config, correspondence and data."""
    from interpbench.cases.data import encode, generate_inputs, n_sequences
    from interpbench.compiler import load_compiled

    case = _get_case(case)
    compiled = compiled or load_compiled(case)
    hl = compiled.model
    hl.eval()
    for p in hl.parameters():
        p.requires_grad_(False)
    hl = plain_copy(hl)
    categorical = compiled.output_values is not None
    ll_cfg = ll_config(hl.cfg, case, config)
    corr = build_correspondence(hl, compiled.circuit, ll_cfg, layer_stride=config.layer_stride)

    total = n_sequences(case)
    full_domain = total <= config.full_domain_below
    if full_domain:
        inputs = generate_inputs(case, min_samples=1, max_samples=total, seed=config.seed)
    else:
        inputs = generate_inputs(case, min_samples=1, max_samples=config.n_data, seed=config.seed)
    x = encode(inputs, compiled.input_encoding)
    gen = torch.Generator().manual_seed(config.seed + 1)
    if full_domain:  # the whole input space: train on it and validate on it
        train_x, val_x = x, x
    else:
        perm = torch.randperm(len(x), generator=gen)
        n_val = max(1, int(round(len(x) * config.val_fraction)))
        val_x, train_x = x[perm[:n_val]], x[perm[n_val:]]
    val_x = val_x[: config.max_val]
    val_src = val_x[torch.randperm(len(val_x), generator=gen)]
    eval_data = make_eval_data(hl, corr, val_x, val_src, categorical)
    if config.structure is not None:
        node = config.structure_node or most_decisive_head(eval_data, corr)
        try:
            corr.structure = place_structure(corr, config.structure, node, ll_cfg)
        except ValueError as e:
            raise ValueError(f"case {case.name}: {e}") from None
    train_y = _hl_targets(hl, train_x, categorical)
    info = {
        "n_sequences": total,
        "full_domain": full_domain,
        "n_train": int(len(train_x)),
        "n_val": int(len(val_x)),
        "enumerated": len(inputs) == total,
    }
    return _Setup(case, compiled, hl, categorical, ll_cfg, corr, train_x, train_y, eval_data, info)


#: A structure on a head whose interchange changes the HL output at fewer positions than
#: this could hardly be seen (case 67's only head is constant over the data: 0).
MIN_CONTRAST = 0.05


def most_decisive_head(data: EvalData, corr: Correspondence) -> str:
    """The HL head of the circuit whose interchange changes the HL output at the most
    positions (where a structure on it is most visible)."""
    contrast = {n: contrast_of(data, n) for n in corr.hl_nodes if node_hook(n).head is not None}
    if not contrast:
        raise ValueError("the circuit has no attention head to give a structure")
    best = max(contrast, key=lambda n: (contrast[n], n))
    if contrast[best] < MIN_CONTRAST:
        raise ValueError(
            f"no head of the circuit changes the HL output when interchanged at {MIN_CONTRAST:.0%} of positions or more "
            f"(the best: {contrast[best]:.1%}), so a structure on it could not be seen"
        )
    return best


def plain_copy(model):
    """The same weights without the per-head input/result hooks (2-10x faster to train and run).

    ``use_attn_result``, ``use_split_qkv_input`` and ``use_hook_mlp_in`` change only
    which hooks exist, not the parameters; SIIT patches ``hook_z`` and
    ``hook_mlp_out``, which exist either way.
    """
    from transformer_lens import HookedTransformer

    cfg = copy.deepcopy(model.cfg)
    cfg.use_attn_result = cfg.use_split_qkv_input = cfg.use_hook_mlp_in = False
    with torch.random.fork_rng(devices=[]):
        fast = HookedTransformer(cfg)
    fast.load_state_dict(model.state_dict())
    fast.train(model.training)
    for p, q in zip(fast.parameters(), model.parameters()):
        p.requires_grad_(q.requires_grad)
    return fast


def new_ll_model(ll_cfg, seed: int):
    """An untrained LL model; its initialisation depends only on ``seed``."""
    from transformer_lens import HookedTransformer

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = HookedTransformer(ll_cfg)
    return model


# --- one step ---------------------------------------------------------------------------


def lr_at(config: SIITConfig, step: int) -> float:
    if config.warmup_steps and step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    t = min(1.0, step / max(1, config.max_steps - 1))
    a, b = config.lr, config.lr_end
    if config.lr_schedule == "constant":
        return a
    if config.lr_schedule == "linear":
        return a + (b - a) * t
    if config.lr_schedule == "cosine":
        return b + (a - b) * 0.5 * (1 + math.cos(math.pi * t))
    return a * (b / a) ** t


def _loss(out: torch.Tensor, target: torch.Tensor, categorical: bool) -> torch.Tensor:
    if categorical:
        return torch.nn.functional.cross_entropy(out[:, 1:].reshape(-1, out.shape[-1]), target[:, 1:].reshape(-1))
    return torch.nn.functional.mse_loss(out[:, 1:, 0], target[:, 1:])


def _match(out: torch.Tensor, clean: torch.Tensor, categorical: bool) -> torch.Tensor:
    """How far an output is from the clean one: KL(clean || out) per position, or the squared difference."""
    if not len(out):
        return out.sum()
    if categorical:
        log_p, log_q = clean[:, 1:].log_softmax(-1), out[:, 1:].log_softmax(-1)
        return (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    return torch.nn.functional.mse_loss(out[:, 1:, 0], clean[:, 1:, 0])


class _Trainer:
    def __init__(self, s: _Setup, config: SIITConfig, ll) -> None:
        self.s, self.config, self.ll = s, config, ll
        self.opt = torch.optim.AdamW(
            ll.parameters(), lr=config.lr, betas=config.betas, weight_decay=config.weight_decay
        )
        self.gen = torch.Generator().manual_seed(config.seed + 2)
        self.hl_sites = hooks_for(s.corr.hl_nodes)
        self.ll_sites = hooks_for(s.corr.ll_nodes)
        index = {n: i for i, n in enumerate(s.corr.ll_nodes)}
        # row i: the LL sites patched for HL node i's interchange (its whole group)
        self.groups = torch.zeros((len(s.corr.hl_nodes), len(self.ll_sites)), dtype=torch.bool)
        for i, n in enumerate(s.corr.hl_nodes):
            self.groups[i, [index[m] for m in s.corr.group(n)]] = True
        self.unmapped_ll = torch.tensor([index[n] for n in s.corr.unmapped], dtype=torch.long)
        st = s.corr.structure
        if st is not None:  # subset code c (bit j: member j resampled) -> does the output follow the source?
            self.structured = s.corr.hl_nodes.index(st.hl_node)
            self.members = torch.tensor([index[m] for m in st.members], dtype=torch.long)
            self.follows = torch.tensor(
                [st.follows({m for j, m in enumerate(st.members) if c >> j & 1}) for c in range(2 ** len(st.members))]
            )
        self.step = 0
        self.seconds = 0.0
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None  # {"score", "step", "model", "optimizer"}
        self.evals_since_best = 0
        self.restores = 0

    # one training step
    def train_step(self) -> dict[str, float]:
        s, c, g = self.s, self.config, self.gen
        n, B = len(s.train_x), c.batch_size
        bi = torch.randint(n, (B,), generator=g)
        si = torch.randint(n, (B,), generator=g)
        n_map, n_unmap = len(self.groups), len(self.unmapped_ll)
        iit_pick = torch.randint(max(1, n_map), (B,), generator=g)
        strict_pick = torch.randint(max(1, n_unmap), (B,), generator=g)
        strict_subset = torch.rand((B, max(1, n_unmap)), generator=g) < c.strict_p
        base, src, y_base = s.train_x[bi], s.train_x[si], s.train_y[bi]
        lr = lr_at(c, self.step)
        for group in self.opt.param_groups:
            group["lr"] = lr

        iit_mask, follow = (self.groups[iit_pick] if n_map else None), None
        if n_map and s.corr.structure is not None:
            iit_pick, iit_mask, follow = self._structured(iit_pick)
        with torch.no_grad():
            if n_map:
                hl_src = collect(s.hl, src, self.hl_sites)
                y_iit = hl_labels(patched_forward(s.hl, base, self.hl_sites, hl_src, iit_pick), s.categorical)
                if follow is not None:
                    y_iit = torch.where(follow.view(-1, *([1] * (y_iit.dim() - 1))), y_iit, y_base)
            ll_src = None if c.source_grad else collect(self.ll, src, self.ll_sites)
        n_sites = len(self.ll_sites)

        def as_mask(assign: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.one_hot(assign.clamp(min=0), n_sites).bool() & (assign >= 0)[:, None]

        none = torch.zeros((B, n_sites), dtype=torch.bool)
        if c.strict_sampling == "individual" or not n_unmap:
            strict_mask = as_mask(self.unmapped_ll[strict_pick]) if n_unmap else none
        else:
            chosen = strict_subset if c.strict_sampling == "subset" else torch.ones_like(strict_subset)
            chosen[torch.arange(B), strict_pick] = True  # at least one node per sample
            strict_mask = torch.zeros((B, n_sites), dtype=torch.bool)
            strict_mask[:, self.unmapped_ll] = chosen
        if n_unmap and c.strict_joint_share > 0:
            every = torch.rand(B, generator=g) < c.strict_joint_share
            strict_mask[every.nonzero()[:, None], self.unmapped_ll] = True
        terms: list[tuple[str, float, torch.Tensor, torch.Tensor]] = []  # (name, weight, assign, target)
        if iit_mask is not None and c.iit_weight > 0:  # there are mapped nodes
            terms.append(("iit", c.iit_weight, iit_mask, y_iit))
        if n_unmap and c.strict_weight > 0:
            terms.append(("strict", c.strict_weight, strict_mask, y_base))
        if c.behavior_weight > 0:
            terms.append(("behavior", c.behavior_weight, none, y_base))

        losses: dict[str, float] = {}
        if c.separate_steps:
            for name, w, assign, target in terms:
                self.opt.zero_grad(set_to_none=True)
                out = self._forward(src, base, ll_src, assign)
                loss = _loss(out, target, s.categorical)
                (w * loss).backward()
                self._clip_and_step()
                losses[name] = loss.item()
        else:
            k = len(terms)
            tokens = base.repeat(k, 1)
            assign = torch.cat([t[2] for t in terms])
            self.opt.zero_grad(set_to_none=True)
            out = self._forward(src, tokens, ll_src, assign)
            total = torch.zeros(())
            for i, (name, w, _, target) in enumerate(terms):
                loss = _loss(out[i * B : (i + 1) * B], target, s.categorical)
                total = total + w * loss
                losses[name] = loss.item()
            names = [t[0] for t in terms]
            if follow is not None and c.structure_match_weight > 0 and {"iit", "behavior"} <= set(names):
                # a subset that does not follow the source must leave the whole output as it is
                hidden = ~follow
                iit, clean = (out[names.index(n) * B : (names.index(n) + 1) * B][hidden] for n in ("iit", "behavior"))
                loss = _match(iit, clean.detach(), s.categorical)
                total = total + c.structure_match_weight * loss
                losses["hidden"] = loss.item()
            total.backward()
            self._clip_and_step()
        weights = {**{t[0]: t[1] for t in terms}, "hidden": c.structure_match_weight}
        losses["total"] = sum(weights[k] * v for k, v in losses.items())
        self.step += 1
        return losses

    def _structured(self, pick: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A ``structure_share`` of the IIT samples resample a random non-empty subset of the
        structured group instead. Returns the HL node picked per sample, the LL sites patched
        and whether the output must follow the source (else: the HL output on the base)."""
        B, g = len(pick), self.gen
        on = torch.rand(B, generator=g) < self.config.structure_share
        code = torch.randint(1, len(self.follows), (B,), generator=g)
        pick = torch.where(on, self.structured, pick)
        mask = self.groups[pick].clone()
        bits = (code[:, None] >> torch.arange(len(self.members))) & 1 == 1
        rows = on.nonzero()[:, 0]
        mask[rows[:, None], self.members] = bits[rows]
        return pick, mask, ~on | self.follows[code]

    def _forward(self, src, bases, ll_src, mask):
        if ll_src is None:
            return joint_forward(self.ll, src, bases, self.ll_sites, mask)
        k = bases.shape[0] // src.shape[0]
        acts = {name: a.repeat(k, *([1] * (a.dim() - 1))) for name, a in ll_src.items()}
        return patched_forward(self.ll, bases, self.ll_sites, acts, mask)

    def _clip_and_step(self) -> None:
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.ll.parameters(), self.config.grad_clip)
        self.opt.step()

    def evaluate(self, node_effects: bool = False) -> EvalResult:
        return evaluate(
            self.s.hl,
            self.ll,
            self.s.corr,
            self.s.case,
            self.s.eval_data,
            atol=self.config.atol,
            node_effects=node_effects,
        )

    # best state and restarts
    def note_eval(self, result: EvalResult, allow_restore: bool = True) -> bool:
        """Track the best state; returns True if training went back to it."""
        score = result.score()
        if self.best is None or score > self.best["score"]:
            self.best = {
                "score": score,
                "step": self.step,
                "model": copy.deepcopy(self.ll.state_dict()),
                "optimizer": copy.deepcopy(self.opt.state_dict()),
            }
            self.evals_since_best = 0
            return False
        self.evals_since_best += 1
        patience = self.config.restore_best_after
        if allow_restore and patience and self.evals_since_best >= patience and score < self.best["score"]:
            self.ll.load_state_dict(self.best["model"])
            self.opt.load_state_dict(copy.deepcopy(self.best["optimizer"]))
            self.evals_since_best = 0
            self.restores += 1
            return True
        return False

    # checkpoints
    def state(self, done: bool = False) -> dict[str, Any]:
        return {
            "model": self.ll.state_dict(),
            "optimizer": self.opt.state_dict(),
            "step": self.step,
            "seconds": self.seconds,
            "generator": self.gen.get_state(),
            "best": self.best,
            "evals_since_best": self.evals_since_best,
            "restores": self.restores,
            "history": json.dumps(self.history),
            "config": self.config.model_dump_json(),
            "done": done,
        }

    def load(self, ckpt: dict[str, Any]) -> None:
        self.ll.load_state_dict(ckpt["model"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.step = int(ckpt["step"])
        self.seconds = float(ckpt["seconds"])
        self.gen.set_state(ckpt["generator"])
        self.best = ckpt["best"]
        self.evals_since_best = int(ckpt["evals_since_best"])
        self.restores = int(ckpt["restores"])
        self.history = json.loads(ckpt["history"])


def _stuck(history: list[dict[str, Any]], config: SIITConfig) -> bool:
    """No progress: ``give_up_after`` steps in, the best score (the smallest of accuracy, IIA,
    strict, joint strict and structure accuracy) is within 0.02 of the first evaluation's (a model too
    small for the case stays at chance for ever)."""
    if not config.give_up_after or not history or history[-1]["step"] < config.give_up_after:
        return False

    return max(map(headline_score, history)) - headline_score(history[0]) < 0.02


def save_checkpoint(trainer: _Trainer, out_dir: Path, done: bool = False) -> None:
    write_atomic(out_dir / CHECKPOINT, lambda p: torch.save(trainer.state(done), p))


@contextlib.contextmanager
def _stop_requests():
    """While training, a SIGINT or SIGTERM asks the loop to stop after the step in flight
    (a list that gets the signal); a second one interrupts at once. Main thread only, and
    not for a signal the process was told to ignore (``nohup``, a shell's background job)."""
    asked: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return

    def ask(signum, frame):
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)

    wanted = [sig for sig in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, ask) for sig in wanted}
    try:
        yield asked
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_resumable(saved: dict[str, Any], config: SIITConfig) -> None:
    old = json.loads(saved["config"])
    new = json.loads(config.model_dump_json())
    defaults = json.loads(SIITConfig().model_dump_json())  # a setting newer than the checkpoint: its default
    diff = sorted(k for k in set(old) | set(new) if old.get(k, defaults.get(k)) != new.get(k))
    if diff:
        raise ValueError(f"cannot resume: the checkpoint was trained with other settings ({', '.join(diff)})")


# --- the public entry point -------------------------------------------------------------


def train(
    case,
    config: SIITConfig | None = None,
    out_dir: str | os.PathLike = "siit-out",
    *,
    progress: Callable[[Progress], None] | None = None,
    resume: bool = False,
    compiled=None,
) -> TrainResult:
    """Train an LL model for ``case`` (a ``CaseSpec`` or its name) with SIIT into ``out_dir``.

    Writes ``model.safetensors``, ``config.json``, ``circuit.json`` and ``meta.json``
    (``meta["passed"]`` says whether all three metrics reached the threshold), plus
    ``checkpoint.pt`` along the way. With ``resume`` an existing checkpoint is
    continued (it must come from the same config); without it, training starts over.
    """
    config = config or SIITConfig()
    with _deterministic():
        return _train(case, config, Path(out_dir), progress, resume, compiled)


@contextlib.contextmanager
def _deterministic():
    """Deterministic kernels while training (on CPU, embedding backward is not otherwise
    reproducible with more than one thread); the caller's setting is restored after."""
    before = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)


def _train(case, config: SIITConfig, out: Path, progress, resume: bool, compiled) -> TrainResult:
    out.mkdir(parents=True, exist_ok=True)
    t_setup = time.perf_counter()
    s = prepare(case, config, compiled)
    ll = plain_copy(new_ll_model(s.ll_cfg, config.seed))
    trainer = _Trainer(s, config, ll)
    setup_seconds = time.perf_counter() - t_setup

    ckpt_path = out / CHECKPOINT
    done = False
    if resume and ckpt_path.exists():
        saved = torch.load(ckpt_path, weights_only=True)
        _check_resumable(saved, config)
        trainer.load(saved)
        done = bool(saved["done"])

    def report(event: str, losses: dict[str, float], metrics: EvalResult | None = None, passed: bool = False) -> None:
        if progress is not None:
            progress(
                Progress(event, trainer.step, config.max_steps, losses, lr_at(config, max(0, trainer.step - 1)),
                         trainer.seconds, metrics, passed)
            )  # fmt: skip

    passed = False
    stopped = "max-steps"
    if done:  # a finished run: reuse its final state
        last = trainer.history[-1] if trainer.history else {}
        passed = bool(last.get("passed", False))
        stopped = "early-stop" if passed else "max-steps"
    losses: dict[str, float] = {}
    clock = time.perf_counter()
    with _stop_requests() as stop:
        while not done and trainer.step < config.max_steps:
            losses = trainer.train_step()
            trainer.seconds += time.perf_counter() - clock
            clock = time.perf_counter()
            report("step", losses)
            at_end = trainer.step >= config.max_steps
            if trainer.step % config.eval_every == 0 or at_end:
                result = trainer.evaluate()
                passed = result.passed(config.threshold, config.joint_threshold, config.hidden_threshold)
                restored = trainer.note_eval(result, allow_restore=not passed)
                trainer.history.append(
                    {
                        "step": trainer.step,
                        "seconds": round(trainer.seconds, 3),
                        "lr": lr_at(config, trainer.step - 1),
                        "loss": {k: round(v, 6) for k, v in losses.items()},
                        "accuracy": result.accuracy,
                        "iia": result.iia,
                        "strict_accuracy": result.strict_accuracy,
                        "joint_strict_accuracy": result.joint_strict_accuracy,
                        "structure_accuracy": result.structure_accuracy,
                        "structure_hidden_effect": result.structure_hidden_effect,
                        "passed": passed,
                        "restored_best": restored,
                    }
                )
                trainer.seconds += time.perf_counter() - clock
                clock = time.perf_counter()
                report("eval", losses, result, passed)
                if restored:
                    report("restore", losses, result)
                if passed and config.early_stop:
                    stopped = "early-stop"
                    break
                if _stuck(trainer.history, config):
                    stopped = "stuck"
                    break
            if trainer.step % config.checkpoint_every == 0 and not at_end:
                save_checkpoint(trainer, out)
                clock = time.perf_counter()
            if stop:
                save_checkpoint(trainer, out)
                raise TrainingInterrupted(f"stopped at step {trainer.step}; its checkpoint in {out} resumes it")

    final_from = "last"
    if not passed and trainer.best is not None and not done:
        # keep the best state seen, not whatever the run ended on
        current = trainer.history[-1] if trainer.history else None
        cur_score = headline_score(current) if current else -1
        if trainer.best["score"] > cur_score:
            trainer.ll.load_state_dict(trainer.best["model"])
            final_from = f"best (step {trainer.best['step']})"
    if not done:
        save_checkpoint(trainer, out, done=True)
    final = trainer.evaluate(node_effects=True)
    passed = final.passed(config.threshold, config.joint_threshold, config.hidden_threshold)
    meta = _meta(s, config, trainer, final, passed, stopped, final_from, setup_seconds)
    model = _write_outputs(out, trainer.ll, s, meta)
    report("done", losses, final, passed)
    return TrainResult(out, passed, trainer.step, trainer.seconds, final, model, meta)


# --- outputs ----------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    """The run's versions, plus the thread count, which the weights depend on."""
    from interpbench.versions import versions

    return {**versions(), "torch_threads": str(torch.get_num_threads())}


def _meta(s: _Setup, config, trainer: _Trainer, final: EvalResult, passed, stopped, final_from, setup_seconds):
    from interpbench.siit.config import ll_shape

    steps_to_pass = next((h["step"] for h in trainer.history if h["passed"]), None)
    seconds_to_pass = next((h["seconds"] for h in trainer.history if h["passed"]), None)
    return {
        "format": "interpbench-siit",
        "format_version": 1,
        "case": s.case.name,
        "seed": config.seed,
        "passed": passed,
        "threshold": config.threshold,
        "joint_threshold": config.joint_threshold,
        "stopped": stopped,
        "steps": trainer.step,
        "steps_to_pass": steps_to_pass,
        "seconds_to_pass": seconds_to_pass,
        "seconds": round(trainer.seconds, 3),
        "setup_seconds": round(setup_seconds, 3),
        "final_model": final_from,
        "restores": trainer.restores,
        "categorical": s.categorical,
        "metrics": final.to_dict(),
        "hyperparameters": config.model_dump(mode="json"),
        "ll_shape": ll_shape(s.hl.cfg, s.case, config),
        "hl_shape": {k: getattr(s.hl.cfg, k) for k in ("n_layers", "n_heads", "d_head", "d_model", "d_mlp")},
        "parameters": sum(p.numel() for p in trainer.ll.parameters()),
        "correspondence": s.corr.to_dict(),
        "data": s.data_info,
        "input_encoding": [[tok, i] for tok, i in s.compiled.input_encoding.items()],
        "output_values": s.compiled.output_values,
        "history": trainer.history,
        "versions": _versions(),
    }


def _write_outputs(out: Path, ll, s: _Setup, meta: dict[str, Any]):
    """Write the four files; returns the saved model with every discovery hook on."""
    from safetensors.torch import save_file
    from transformer_lens import HookedTransformer

    from interpbench.formats.model_files import stored_fields

    state = {k: v.detach().contiguous().clone() for k, v in ll.state_dict().items()}
    with torch.random.fork_rng(devices=[]):
        model = HookedTransformer(s.ll_cfg)
    model.load_state_dict(state)
    model.eval()
    write_atomic(out / "model.safetensors", lambda p: save_file(state, str(p)))
    texts = {
        "config.json": json.dumps(stored_fields(s.ll_cfg), indent=2),
        "circuit.json": json.dumps(s.corr.ll_circuit(s.compiled.circuit).model_dump(mode="json"), indent=2),
        "meta.json": json.dumps(meta, indent=2, default=str),
    }
    for name, text in texts.items():
        write_atomic(out / name, functools.partial(Path.write_text, data=text))
    return model
