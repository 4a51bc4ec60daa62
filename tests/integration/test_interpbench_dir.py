"""The published InterpBench directory layout: export, read back, refuse unsafe pickles."""

import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from interpbench import registry
from interpbench.cli import cli
from interpbench.errors import InterpbenchError
from interpbench.formats.interpbench_dir import published_to_edges, read_config
from interpbench.schemas import RunResult
from interpbench.siit import zoo
from interpbench.siit.published import load_published
from interpbench.siit.store import load_trained


@pytest.fixture(scope="module")
def case3():
    return registry.get_case("3")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, case3):
    out = tmp_path_factory.mktemp("ib") / "3"
    result = CliRunner().invoke(cli, ["export", "--case", "3", "--format", "interpbench", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def copy_of(exported, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(exported, target)
    return target


def test_export_writes_the_published_layout(exported):
    assert sorted(p.name for p in exported.iterdir()) == ["edges.pkl", "ll_model.pth", "ll_model_cfg.pkl", "meta.json"]
    # What InterpBench's own loader does: plain pickle.load, from_dict, load_state_dict (strict).
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    cfg_dict = pickle.loads((exported / "ll_model_cfg.pkl").read_bytes())
    assert isinstance(cfg_dict, dict) and cfg_dict["dtype"] == torch.float32 and cfg_dict["device"] == "cpu"
    model = HookedTransformer(HookedTransformerConfig.from_dict(cfg_dict))
    model.load_state_dict(torch.load(exported / "ll_model.pth", map_location="cpu"))
    edges = pickle.loads((exported / "edges.pkl").read_bytes())
    assert all(isinstance(s, str) and isinstance(r, str) for s, r in edges)
    assert ("blocks.1.attn.hook_result[0]", "blocks.1.hook_resid_post") in edges
    assert ("blocks.1.hook_q_input[0]", "blocks.1.attn.hook_q[0]") in edges  # InterpBench lists these too
    meta = json.loads((exported / "meta.json").read_text())
    assert meta["case"] == "3" and {"atol", "lr", "iit_weight", "strict_weight", "behavior_weight"} <= set(meta)


def test_read_back_gives_the_same_logits_and_circuit(exported, case3):
    ours = load_trained(case3, zoo.find("3"))
    theirs = load_published(exported, case3)
    tokens = torch.randint(0, ours.model.cfg.d_vocab, (8, ours.model.cfg.n_ctx))
    with torch.no_grad():
        assert torch.equal(ours.model(tokens), theirs.model(tokens))
    assert theirs.circuit == ours.circuit
    assert theirs.input_encoding == ours.input_encoding and theirs.categorical == ours.categorical
    assert theirs.default_ablation == "resample"


def test_run_with_the_interpbench_dir_loader(exported):
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--case",
            "3",
            "--method",
            "node-ablation",
            "--loader",
            "interpbench-dir",
            "--model-dir",
            str(exported),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    run = RunResult.model_validate_json(result.stdout)
    assert run.loader == "interpbench-dir" and run.status == "ok"


def test_the_loader_needs_a_model_dir():
    result = CliRunner().invoke(cli, ["run", "--case", "3", "--method", "node-ablation", "--loader", "interpbench-dir"])
    assert result.exit_code != 0
    assert "--model-dir is required for the interpbench-dir loader" in result.output


def test_eval_of_an_exported_directory(exported):
    result = CliRunner().invoke(
        cli, ["eval", "--case", "3", "--loader", "interpbench-dir", "--model-dir", str(exported), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert min(data["accuracy"], data["iia"], data["strict_accuracy"]) >= 0.995


class SystemCall:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Exec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("payload", [SystemCall, Exec])
@pytest.mark.parametrize("file", ["ll_model_cfg.pkl", "edges.pkl"])
def test_a_malicious_pickle_is_refused(exported, case3, tmp_path, payload, file):
    directory = copy_of(exported, tmp_path)
    marker = tmp_path / "pwned"
    (directory / file).write_bytes(pickle.dumps({"n_layers": 2, "x": payload(marker)}))
    with pytest.raises(InterpbenchError) as e:
        load_published(directory, case3)
    assert str(directory / file) in str(e.value) and "refused" in str(e.value)
    assert not marker.exists()
    # and from the command line, as one line
    result = CliRunner().invoke(
        cli,
        [
            "run",
            "--case",
            "3",
            "--method",
            "node-ablation",
            "--loader",
            "interpbench-dir",
            "--model-dir",
            str(directory),
        ],
    )
    assert result.exit_code != 0 and file in result.output
    assert not marker.exists()


class NotATensor:
    pass


def test_weights_with_a_non_tensor_object_are_refused(exported, case3, tmp_path):
    directory = copy_of(exported, tmp_path)
    marker = tmp_path / "pwned"
    state = torch.load(directory / "ll_model.pth", weights_only=True)
    torch.save({**state, "extra": NotATensor()}, directory / "ll_model.pth")
    with pytest.raises(InterpbenchError, match="ll_model.pth: it holds objects other than tensors"):
        load_published(directory, case3)
    torch.save({**state, "extra": SystemCall(marker)}, directory / "ll_model.pth")
    with pytest.raises(InterpbenchError, match="weights_only=True"):
        load_published(directory, case3)
    assert not marker.exists()


def test_published_style_config_and_edges(exported, case3, tmp_path):
    """Configs as TransformerLens 1.x pickles them (NumPy float, torch.device, or the config
    object itself) and edges as InterpBench lists them (q/k/v-internal edges, head level)."""
    from transformer_lens import HookedTransformerConfig

    directory = copy_of(exported, tmp_path)
    fields = pickle.loads((directory / "ll_model_cfg.pkl").read_bytes())
    fields.update(initializer_range=np.float64(0.8 / np.sqrt(12)), device=torch.device("cpu"), some_future_field=1)
    (directory / "ll_model_cfg.pkl").write_bytes(pickle.dumps(fields))
    cfg = read_config(directory / "ll_model_cfg.pkl")
    assert cfg["initializer_range"] == pytest.approx(0.8 / np.sqrt(12)) and cfg["device"] == "cpu"
    loaded = load_published(directory, case3)
    assert "some_future_field" in loaded.info["ignored_config_fields"]

    fields.pop("some_future_field")
    obj = HookedTransformerConfig.from_dict({**fields, "device": "cpu"})
    (directory / "ll_model_cfg.pkl").write_bytes(pickle.dumps(obj))
    assert read_config(directory / "ll_model_cfg.pkl")["d_model"] == 12

    published = [  # InterpBench's case-3 edges.pkl shape (DEMO_InterpBench.ipynb)
        ("blocks.1.attn.hook_result[2]", "blocks.1.hook_resid_post"),
        ("blocks.0.hook_mlp_out", "blocks.1.hook_q_input[2]"),
        ("hook_embed", "blocks.0.hook_mlp_in"),
        ("hook_pos_embed", "blocks.1.hook_v_input[2]"),
        ("blocks.1.hook_q_input[2]", "blocks.1.attn.hook_q[2]"),
        ("blocks.0.hook_mlp_in", "blocks.0.hook_mlp_out"),
    ]
    edges, expanded = published_to_edges(published, 2)
    assert not expanded
    assert edges == {
        ("blocks.1.attn.hook_result[2]", "blocks.1.hook_resid_post"),
        ("blocks.0.hook_mlp_out", "blocks.1.hook_q_input[2]"),
        ("hook_embed", "blocks.0.hook_mlp_in"),
        ("hook_pos_embed", "blocks.1.hook_v_input[2]"),
    }
    head_level = [
        ("blocks.0.hook_resid_pre", "blocks.0.hook_mlp_out"),
        ("blocks.0.hook_mlp_out", "blocks.1.attn.hook_result[1]"),
    ]
    edges, expanded = published_to_edges(head_level, 2)
    assert expanded
    assert edges == {
        ("hook_embed", "blocks.0.hook_mlp_in"),
        ("hook_pos_embed", "blocks.0.hook_mlp_in"),
        *{("blocks.0.hook_mlp_out", f"blocks.1.hook_{x}_input[1]") for x in "qkv"},
    }
    with pytest.raises(InterpbenchError, match="unknown receiver"):
        published_to_edges([("hook_embed", "blocks.0.attn.hook_nonsense")], 2)
