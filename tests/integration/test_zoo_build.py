"""`interpbench zoo build`: keeps what is certified, trains what is missing, resumes, installs at once."""

import json
import shutil

import pytest
from click.testing import CliRunner

from interpbench import registry
from interpbench.cli import cli
from interpbench.siit import zoo, zoo_build
from interpbench.siit.config import SIITConfig


@pytest.fixture
def private_zoo(tmp_path, monkeypatch):
    root = tmp_path / "zoo"
    root.mkdir()
    monkeypatch.setattr(zoo, "ZOO", root)
    monkeypatch.setenv("INTERPBENCH_CACHE", str(tmp_path / "cache"))
    return root


def test_a_model_certified_before_joint_strict_accuracy_is_recertified_in_place(private_zoo):
    shutil.copytree(zoo_build.Path(zoo.__file__).parents[1] / "zoo" / "case-8", private_zoo / "case-8")
    meta = json.loads((private_zoo / "case-8" / "meta.json").read_text())
    for k in ("joint_strict_accuracy", "joint_strict_sequences"):
        meta["metrics"].pop(k, None)
    (private_zoo / "case-8" / "meta.json").write_text(json.dumps(meta))
    (outcome,) = zoo_build.build([registry.get_case("8")], SIITConfig())
    assert (outcome.action, outcome.passed) == ("kept", True)
    meta = json.loads((private_zoo / "case-8" / "meta.json").read_text())
    assert meta["metrics"]["joint_strict_accuracy"] >= 0.99 and meta["passed"]


def test_a_missing_case_is_trained_installed_and_not_trained_twice(private_zoo):
    case = registry.get_case("33")
    config = SIITConfig(max_steps=300)
    (first,) = zoo_build.build([case], config)
    assert first.action == "trained" and first.passed
    assert zoo.find("33") == private_zoo / "case-33"
    assert sorted(p.name for p in (private_zoo / "case-33").iterdir()) == sorted(
        ["model.safetensors", "config.json", "circuit.json", "meta.json"]
    )
    (second,) = zoo_build.build([case], config)
    assert second.action == "kept" and second.detail == "already built"


def test_a_build_resumes_from_a_kept_work_folder_and_clears_it_once_installed(private_zoo, tmp_path):
    """``--work``: the folder a build stopped in (a committed one, on another machine) is
    where the next build carries on; once the model is installed nothing is left there."""
    case, work = registry.get_case("33"), tmp_path / "kept"
    config = SIITConfig(max_steps=40, checkpoint_every=10, early_stop=False)

    def stop_at_25(p):
        if p.step == 25:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        zoo_build.build([case], config, work=work, progress=stop_at_25)
    assert (work / "case-33" / "checkpoint.pt").exists() and zoo.find("33") is None
    listed = CliRunner().invoke(cli, ["zoo", "--work", str(work)]).output
    assert "in training" in listed and "case 33: step 20 of 40" in listed  # `interpbench zoo` shows where it stands
    steps = []
    (outcome,) = zoo_build.build([case], config, work=work, progress=lambda p: steps.append(p.step))
    assert outcome.action == "trained" and steps[0] == 21  # from the checkpoint at step 20
    assert (private_zoo / "case-33" / "meta.json").exists() and not (work / "case-33").exists()


def test_one_failing_case_does_not_stop_the_build(private_zoo, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(zoo_build, "build_case", broken)
    outcomes = zoo_build.build([registry.get_case("33"), registry.get_case("8")], SIITConfig())
    assert [o.action for o in outcomes] == ["failed", "failed"] and "boom" in outcomes[0].detail


def test_an_uncertified_case_is_retried_with_the_next_rung_only_when_asked(private_zoo, monkeypatch):
    case = registry.get_case("33")
    config = SIITConfig(max_steps=300)
    zoo_build.build([case], config)
    meta_file = private_zoo / "case-33" / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["passed"] = False  # as if it had missed its certificate
    meta_file.write_text(json.dumps(meta))
    (kept,) = zoo_build.build([case], config)
    assert (kept.action, kept.detail) == ("kept", "not certified after attempt 1 of 4")
    trained = []
    monkeypatch.setattr(zoo_build, "install", lambda work, name, structure=None: trained.append(name))

    def fake_train(case, cfg, work, **kwargs):
        trained.append(cfg.strict_joint_share)

        class Result:
            passed, steps = False, cfg.max_steps

        return Result()

    import interpbench.siit.train as train_module

    monkeypatch.setattr(train_module, "train", fake_train)
    (retried,) = zoo_build.build([case], config, retry=True)
    assert (
        retried.action == "trained"
        and trained[0] == zoo_build.RETRIES["joint_strict_accuracy"][0]["strict_joint_share"]
    )


@pytest.mark.parametrize(
    "iia, climbed",
    [
        # IIA under the threshold: a compressed residual stream, then more steps
        (0.9, [(0.25, 1.0, True, 300), (0.25, 1.0, True, 12_000)]),
        # joint strict accuracy short: more joint samples, then a wider model, then more steps
        (1.0, [(0.5, 1.0, None, 12_000), (0.5, 2.0, None, 12_000), (0.75, 2.0, None, 20_000)]),
    ],
)
def test_an_uncertified_case_climbs_the_ladder_of_what_it_missed(private_zoo, monkeypatch, iia, climbed):
    """One rung per ``--retry`` build, read back from the meta of the model the last rung
    installed; at the top the build keeps the model and says how many attempts it had."""
    case = registry.get_case("33")
    config = SIITConfig(max_steps=300)
    zoo_build.build([case], config)
    meta_file = private_zoo / "case-33" / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["passed"], meta["metrics"]["iia"] = False, iia
    meta_file.write_text(json.dumps(meta))
    seen = []

    def fake_train(case, cfg, work, **kwargs):
        seen.append(cfg)
        meta["hyperparameters"] = cfg.model_dump(mode="json")  # what the retry's install would record
        meta_file.write_text(json.dumps(meta))

        class Result:
            passed, steps = False, cfg.max_steps

        return Result()

    import interpbench.siit.train as train_module

    monkeypatch.setattr(train_module, "train", fake_train)
    monkeypatch.setattr(zoo_build, "install", lambda *args, **kwargs: None)
    for _ in range(len(climbed) + 1):
        zoo_build.build([case], config, retry=True)
    assert [(c.strict_joint_share, c.width_factor, c.compress_resid, c.max_steps) for c in seen] == climbed
    (last,) = zoo_build.build([case], config, retry=True)
    assert last.detail == f"not certified after attempt {len(climbed) + 1} of {len(climbed) + 1}"


def test_an_unreadable_checkpoint_is_listed_as_such_not_loaded(tmp_path):
    (tmp_path / "case-9").mkdir()
    (tmp_path / "case-9" / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (entry,) = zoo_build.in_progress(tmp_path)
    assert zoo_build.describe(entry) == "case 9: unreadable checkpoint (UnpicklingError); remove it to start over"
