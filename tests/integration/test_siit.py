"""SIIT: case 3 trains to the thresholds, deterministically and resumably, and round-trips."""

from __future__ import annotations

import json
import os
import signal
import time
from types import SimpleNamespace

import pytest
import torch

from interpbench.siit.config import SIITConfig, ll_config, ll_shape
from interpbench.siit.correspondence import build_correspondence
from interpbench.siit.store import evaluate_directory, load_model, load_trained, read_meta
from interpbench.siit.train import CHECKPOINT, TrainingInterrupted, train


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one torch thread is far faster than two on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained3(tmp_path_factory, one_thread):
    """Case 3 trained to the thresholds (seconds on 2 cores)."""
    out = tmp_path_factory.mktemp("siit3")
    start = time.perf_counter()
    result = train("3", SIITConfig(seed=0, max_steps=3000), out)
    return result, time.perf_counter() - start


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- shapes and correspondence ------------------------------------------------------------


def test_ll_shape_follows_interpbench_conventions():
    hl = SimpleNamespace(n_layers=2, n_heads=1, d_head=6, d_model=13)
    assert ll_shape(hl, "3") == {"n_layers": 2, "n_heads": 4, "d_head": 3, "d_model": 12, "d_mlp": 48}
    hl7 = SimpleNamespace(n_layers=1, n_heads=1, d_head=5, d_model=26)  # compressed residual, ratio 1.5
    assert ll_shape(hl7, "7") == {"n_layers": 2, "n_heads": 4, "d_head": 4, "d_model": 17, "d_mlp": 68}
    hl18 = SimpleNamespace(n_layers=2, n_heads=2, d_head=7, d_model=42)  # compressed, ratio 1.6
    assert ll_shape(hl18, "18")["d_model"] == 26
    wide = ll_shape(hl, "3", SIITConfig(width_factor=2))
    assert wide["d_head"] == 6 and wide["d_model"] == 24


def test_ll_config_keeps_the_hl_interface_and_discovery_hooks(task3):
    hl = task3.model
    cfg = ll_config(hl.cfg, "3")
    assert (cfg.d_vocab, cfg.d_vocab_out, cfg.n_ctx, cfg.attention_dir) == (
        hl.cfg.d_vocab, hl.cfg.d_vocab_out, hl.cfg.n_ctx, hl.cfg.attention_dir
    )  # fmt: skip
    assert cfg.use_attn_result and cfg.use_split_qkv_input and cfg.use_hook_mlp_in
    assert cfg.act_fn == "gelu" and cfg.normalization_type is None


def test_correspondence_maps_circuit_nodes_to_the_same_ll_nodes(task3):
    hl = task3.model
    corr = build_correspondence(hl, task3.ground_truth, ll_config(hl.cfg, "3"))
    assert corr.mapping == {"blocks.0.hook_mlp_out": "blocks.0.hook_mlp_out",
                            "blocks.1.attn.hook_result[0]": "blocks.1.attn.hook_result[0]"}  # fmt: skip
    assert len(corr.unmapped) == 10 - 2 and "blocks.1.hook_mlp_out" in corr.unmapped
    assert corr.ll_circuit(task3.ground_truth).edge_set() == task3.ground_truth.edge_set()


# --- training ---------------------------------------------------------------------------


def test_case3_trains_to_the_thresholds(trained3):
    result, seconds = trained3
    assert result.passed, result.meta["history"][-3:]
    assert result.steps <= 3000 and seconds < 60
    m = result.metrics
    assert min(m.accuracy, m.iia, m.strict_accuracy) >= 0.995
    meta = read_meta(result.out_dir)
    assert meta["passed"] is True and meta["stopped"] == "early-stop" and meta["seed"] == 0
    assert meta["steps_to_pass"] == result.steps and meta["versions"]["torch"]
    for name in ("model.safetensors", "config.json", "circuit.json", "meta.json", CHECKPOINT):
        assert (result.out_dir / name).exists()
    assert not list(result.out_dir.glob("*.tmp"))


def test_a_run_that_misses_the_thresholds_says_so(tmp_path):
    result = train("3", SIITConfig(seed=0, max_steps=3, eval_every=1), tmp_path)
    assert not result.passed
    meta = read_meta(tmp_path)
    assert meta["passed"] is False and meta["stopped"] == "max-steps" and meta["steps_to_pass"] is None


def test_same_seed_gives_the_same_weights(tmp_path):
    cfg = SIITConfig(seed=7, max_steps=6, eval_every=3)
    a = _weights(train("3", cfg, tmp_path / "a").model)
    b = _weights(train("3", cfg, tmp_path / "b").model)
    c = _weights(train("3", cfg.model_copy(update={"seed": 8}), tmp_path / "c").model)
    assert _same(a, b)
    assert not _same(a, c)


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("separate_steps", [False, True])
def test_resume_continues_an_interrupted_run_exactly(tmp_path, separate_steps):
    cfg = SIITConfig(seed=3, max_steps=24, eval_every=4, checkpoint_every=5, early_stop=False,
                     restore_best_after=1, separate_steps=separate_steps)  # fmt: skip
    whole = train("3", cfg, tmp_path / "whole")

    def stop_at_13(p):
        if p.step == 13:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train("3", cfg, tmp_path / "cut", progress=stop_at_13)
    assert (tmp_path / "cut" / CHECKPOINT).exists() and not (tmp_path / "cut" / "meta.json").exists()
    steps = []
    resumed = train("3", cfg, tmp_path / "cut", resume=True, progress=lambda p: steps.append(p.step))
    assert steps[0] == 11  # continued from the checkpoint at step 10
    assert _same(_weights(whole.model), _weights(resumed.model))

    def history(d):
        return [{k: v for k, v in h.items() if k != "seconds"} for h in read_meta(d)["history"]]

    assert history(tmp_path / "whole") == history(tmp_path / "cut")


@pytest.fixture
def signal_handled(request):
    """The signal as an interactive shell leaves it (CI may start us with SIGINT ignored)."""
    sig = request.param
    previous = signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    yield sig
    signal.signal(sig, previous)


@pytest.mark.parametrize("signal_handled", [signal.SIGINT, signal.SIGTERM], indirect=True)
def test_a_signal_stops_training_at_the_step_in_flight_and_loses_nothing(tmp_path, signal_handled):
    """Ctrl-C or a kill mid-interval writes the checkpoint there (not at the last multiple of
    checkpoint_every), and the resumed run ends with the uninterrupted run's weights."""
    sig = signal_handled
    cfg = SIITConfig(seed=3, max_steps=16, eval_every=4, checkpoint_every=100, early_stop=False)
    whole = train("3", cfg, tmp_path / "whole")
    before = signal.getsignal(sig)

    def signal_at_13(p):
        if p.step == 13 and p.event == "step":
            os.kill(os.getpid(), sig)

    with pytest.raises(TrainingInterrupted, match="step 13"):
        train("3", cfg, tmp_path / "cut", progress=signal_at_13)
    assert signal.getsignal(sig) is before  # the handler is put back
    steps = []
    resumed = train("3", cfg, tmp_path / "cut", resume=True, progress=lambda p: steps.append(p.step))
    assert steps[0] == 14
    assert _same(_weights(whole.model), _weights(resumed.model))


def test_a_signal_the_process_ignores_stays_ignored(tmp_path):
    """Started under nohup or in the background, a training leaves SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:

        def signal_at_3(p):
            if p.step == 3 and p.event == "step":
                os.kill(os.getpid(), signal.SIGINT)

        result = train("3", SIITConfig(seed=0, max_steps=6, early_stop=False), tmp_path, progress=signal_at_3)
        assert result.steps == 6 and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_checkpoint_from_before_a_new_setting_resumes_as_if_it_had_its_default(tmp_path):
    """Checkpoints outlive releases (zoo-work/): one written before a setting existed carries
    on when the run asks for that setting's default, and is refused otherwise."""
    cfg = SIITConfig(seed=0, max_steps=6, checkpoint_every=3, early_stop=False)

    def stop_at_4(p):
        if p.step == 4:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train("3", cfg, tmp_path, progress=stop_at_4)
    saved = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    older = json.loads(saved["config"])
    del older["width_factor"]
    saved["config"] = json.dumps(older)
    torch.save(saved, tmp_path / CHECKPOINT)
    with pytest.raises(ValueError, match="width_factor"):
        train("3", cfg.model_copy(update={"width_factor": 2.0}), tmp_path, resume=True)
    assert train("3", cfg, tmp_path, resume=True).steps == 6


def test_resume_refuses_another_config(tmp_path):
    cfg = SIITConfig(seed=0, max_steps=4, checkpoint_every=2)
    train("3", cfg, tmp_path)
    with pytest.raises(ValueError, match="lr"):
        train("3", cfg.model_copy(update={"lr": 1e-3}), tmp_path, resume=True)


# --- storage and evaluation -------------------------------------------------------------


def test_saved_directory_loads_back_and_re_evaluates_the_same(trained3):
    result, _ = trained3
    loaded = load_trained("3", result.out_dir)
    assert loaded.default_ablation == "resample" and loaded.categorical is False
    assert loaded.circuit.model_dump() == json.loads((result.out_dir / "circuit.json").read_text())
    assert loaded.circuit.level == "edge" and ("blocks.1.attn.hook_result[0]", "blocks.1.hook_resid_post") in (
        loaded.circuit.edge_set()
    )
    assert _same(_weights(loaded.model), _weights(result.model))
    cfg = loaded.model.cfg
    assert cfg.use_attn_result and cfg.use_split_qkv_input and cfg.use_hook_mlp_in
    again = evaluate_directory("3", result.out_dir)
    saved = read_meta(result.out_dir)["metrics"]
    for key in ("accuracy", "iia", "strict_accuracy"):
        assert again.to_dict()[key] == pytest.approx(saved[key], abs=1e-6)
    with pytest.raises(ValueError, match="case 3"):
        load_trained("7", result.out_dir)


def test_loaded_model_runs_the_discovery_hooks(trained3):
    result, _ = trained3
    model = load_model(result.out_dir)
    tokens = torch.zeros(2, model.cfg.n_ctx, dtype=torch.long)
    _, cache = model.run_with_cache(tokens)
    assert "blocks.1.attn.hook_result" in cache and "blocks.1.hook_q_input" in cache


def test_node_effects_mark_the_circuit(trained3):
    result, _ = trained3
    effects = {e.node: e for e in result.metrics.node_effects}
    assert len(effects) == 10
    inside = [e for e in effects.values() if e.in_circuit]
    outside = [e for e in effects.values() if not e.in_circuit]
    assert {e.node for e in inside} == {"blocks.0.hook_mlp_out", "blocks.1.attn.hook_result[0]"}
    smallest_inside = min(e.resample_effect for e in inside)
    assert all(e.resample_effect < smallest_inside / 20 for e in outside)
    assert all(e.resample_changed > 0.2 for e in inside)
    assert all(e.resample_changed < 0.05 for e in outside)
    assert "in_circuit" in result.metrics.table()


def test_a_training_that_makes_no_progress_gives_up_and_says_so(tmp_path):
    """A model far too small for the case (d_head 1, d_model 4) stays where it started;
    training stops after give_up_after steps instead of running to max_steps."""
    from interpbench.siit.config import SIITConfig
    from interpbench.siit.train import train

    config = SIITConfig(d_head=1, d_model=4, max_steps=3000, give_up_after=300, lr=1e-5, lr_end=1e-5)
    result = train("7", config, tmp_path / "stuck")
    assert not result.passed and result.meta["stopped"] == "stuck" and result.steps < 3000
