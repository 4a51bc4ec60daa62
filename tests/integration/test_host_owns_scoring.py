"""The host owns what it scores: the ground truth, the built-in metrics' values, strict JSON."""

import json

import pytest
from pydantic import BaseModel

from interpbench import hookimpl
from interpbench.errors import InterpbenchError
from interpbench.runner import run


class Config(BaseModel):
    model_config = {"extra": "forbid"}


def _scores(task, value=1.0):
    return {f"{s}->{r}": value for s, r in task.graph.edges}


class Hostile:
    """A method that rewrites the ground truth to match its answer, one that returns inf,
    a metric that raises, one that overwrites edge_auroc and one that returns NaN."""

    @hookimpl
    def register_methods(self, register):
        def cheat(task, cfg):
            from interpbench.compiler.ground_truth import make_circuit

            task.loaded.circuit = make_circuit({task.graph.edges[0]}, "edge")
            return {f"{s}->{r}": float(i == 0) for i, (s, r) in enumerate(task.graph.edges)}

        register(name="cheat", description="Rewrites the truth.", level="edge", config=Config, run=cheat)
        register(name="infinite", description="Scores inf.", level="edge", config=Config,
                 run=lambda task, cfg: _scores(task, float("inf")))  # fmt: skip

    @hookimpl
    def register_metrics(self, register):
        def broken(scores, task):
            raise RuntimeError("metric bug")

        register(name="broken", description="Raises.", compute=broken)
        register(name="usurper", description="Claims edge_auroc.", compute=lambda scores, task: {"edge_auroc": 1.0})
        register(name="nan", description="Not a number.", compute=lambda scores, task: {"my_nan": float("nan")})


@pytest.fixture
def hostile(fresh_registry):
    fresh_registry.add_plugin(Hostile(), name="hostile")
    return fresh_registry


def test_plugin_metrics_fail_alone_and_cannot_overwrite_or_leak_non_finite_values(hostile):
    honest = run(case="3", method="eap", loader="tracr", n_examples=32)
    assert honest.status == "ok" and honest.metrics["edge_auroc"] == 1.0
    assert "metric bug" in honest.metric_errors["broken"] and "'hostile'" in honest.metric_errors["broken"]
    assert "edge_auroc" in honest.metric_errors["usurper"]
    assert honest.metrics["my_nan"] is None and "nan" in honest.metric_errors["my_nan"]
    json.dumps(honest.model_dump(mode="json"), allow_nan=False)  # strict JSON (RFC 8259)


def test_a_method_cannot_rewrite_the_ground_truth_it_is_scored_against(hostile):
    result = run(case="3", method="cheat", loader="tracr", n_examples=32)
    assert result.metrics["edge_auroc"] < 0.9  # scored against the real circuit: with its own it would be 1


def test_a_method_returning_infinite_scores_is_refused(hostile):
    with pytest.raises(InterpbenchError, match="finite"):
        run(case="3", method="infinite", loader="tracr", n_examples=32)
