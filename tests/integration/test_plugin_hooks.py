"""Every hook, exercised end to end by a plugin that is not built in."""

import inspect
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

import interpbench
from interpbench import hookimpl, hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


class ThirdParty:
    """A plugin providing one of each: a case, a loader, a method and a metric."""

    @hookimpl
    def register_cases(self, register):
        def program():
            from interpbench.cases import rasp_lib

            r = rasp_lib.rasp()
            return r.Map(lambda t: t == "b", r.tokens).named("is_b")

        register(
            name="is-b",
            description="Whether each token is 'b'.",
            vocab={"a", "b"},
            max_seq_len=4,
            program=program,
            categorical=True,
        )

    @hookimpl
    def register_loaders(self, register):
        from interpbench.plugins.loaders import load_tracr

        def load(case, *, seed=0, options=None):
            loaded = load_tracr(case, seed=seed, options=options)
            loaded.info["origin"] = "third-party loader"
            return loaded

        register(name="wrapped", description="The tracr loader, wrapped.", load=load)

    @hookimpl
    def register_methods(self, register):
        class Config(BaseModel):
            model_config = {"extra": "forbid"}
            bonus: float = 1.0

        def truth_teller(task, config):
            truth = task.ground_truth.edge_set()
            return {f"{s}->{r}": config.bonus if (s, r) in truth else 0.0 for s, r in task.graph.edges}

        register(
            name="oracle",
            description="Scores the true edges 1 (a test double).",
            level="edge",
            config=Config,
            run=truth_teller,
        )

    @hookimpl
    def register_metrics(self, register):
        def count(scores, task):
            return {"scored_edges": float(len(scores.edges))}

        register(name="edge-count", description="How many edges were scored.", compute=count)


def test_every_hook_runs_through_a_third_party_plugin(fresh_registry):
    fresh_registry.add_plugin(ThirdParty(), name="third-party")
    assert fresh_registry.problems() == []
    result = interpbench.run(case="is-b", method="oracle", loader="wrapped", config={"bonus": 2.0})
    assert result.metrics["edge_auroc"] == 1.0
    assert result.metrics["scored_edges"] == len(result.scores.edges)
    assert result.config == {"bonus": 2.0}
    provided = {p.name: p for p in fresh_registry.plugins()}["third-party"]
    assert (provided.cases, provided.loaders, provided.methods, provided.metrics) == (
        ["is-b"],
        ["wrapped"],
        ["oracle"],
        ["edge-count"],
    )


def test_a_method_missing_edges_is_refused(fresh_registry):
    class Partial:
        @hookimpl
        def register_methods(self, register):
            class Config(BaseModel):
                model_config = {"extra": "forbid"}

            register(
                name="partial",
                description="Scores one edge only.",
                level="edge",
                config=Config,
                run=lambda task, config: {"hook_embed->blocks.0.hook_mlp_in": 1.0},
            )

    fresh_registry.add_plugin(Partial(), name="partial-plugin")
    with pytest.raises(interpbench.errors.InterpbenchError, match="must score every edge") as caught:
        interpbench.run(case="3", method="partial")
    message = str(caught.value)
    assert "plugin 'partial-plugin'" in message and "(e.g. blocks.0.attn.hook_result[0]->" in message  # edge keys
    assert "('" not in message


def test_an_invalid_score_names_the_plugin_and_where(fresh_registry):
    class Config(BaseModel):
        model_config = {"extra": "forbid"}

    class NotANumber:
        @hookimpl
        def register_methods(self, register):
            register(name="nan-ish", description="Scores an edge with text.", level="edge", config=Config,
                     run=lambda task, config: {"hook_embed->blocks.0.hook_mlp_in": "high"})  # fmt: skip

    fresh_registry.add_plugin(NotANumber(), name="text-scores")
    with pytest.raises(interpbench.errors.InterpbenchError) as caught:
        interpbench.run(case="3", method="nan-ish")
    message = str(caught.value)
    assert "plugin 'text-scores'" in message and "score" in message and "'high'" in message
    assert "\n" not in message and "validation error for" not in message


HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    source = inspect.getsource(getattr(hookspecs, hook))
    signature = next(line for line in source.splitlines() if line.startswith("def ")).rstrip(":")
    text = DOCS.read_text()
    assert f"## {hook}" in text, f"docs/plugins.md lacks a section for {hook}"
    assert signature in text, f"docs/plugins.md must show the exact signature: {signature}"


def test_every_documented_hook_exists():
    documented = re.findall(r"^## (register_\w+)", DOCS.read_text(), flags=re.M)
    assert sorted(documented) == sorted(HOOKS)


def test_a_crashing_method_is_named_in_one_error(fresh_registry):
    class Crashes:
        @hookimpl
        def register_methods(self, register):
            class Config(BaseModel):
                model_config = {"extra": "forbid"}

            def crash(task, config):
                raise ZeroDivisionError("oops")

            register(name="crashes", description="Raises.", level="edge", config=Config, run=crash)

    fresh_registry.add_plugin(Crashes(), name="crashing-plugin")
    with pytest.raises(
        interpbench.errors.PluginFailed,
        match=r"method 'crashes' \(plugin 'crashing-plugin'\) failed: ZeroDivisionError: oops",
    ):
        interpbench.run(case="3", method="crashes")
