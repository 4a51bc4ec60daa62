"""`interpbench rescore`: today's metrics from a record's stored scores, without rerunning the method."""

import json

from click.testing import CliRunner

from interpbench.cli import cli
from interpbench.runner import rescore, run
from interpbench.schemas import SCHEMA_VERSION, RunResult


def test_rescoring_gives_the_metrics_a_fresh_run_gives(tmp_path):
    fresh = run(case="3", method="eap", loader="tracr", n_examples=64)
    old = fresh.model_copy(update={"schema_version": 1, "metrics": {"empty_metric": fresh.metrics["empty_metric"]},
                                   "sets": {}, "curves": {}, "granularity": None})  # fmt: skip
    again = rescore(old)
    assert again.schema_version == SCHEMA_VERSION and again.granularity == "qkv"
    assert again.metrics == fresh.metrics and again.sets == fresh.sets


def test_a_record_whose_model_or_data_changed_is_refused_and_left_alone(tmp_path):
    fresh = run(case="3", method="eap", loader="tracr", n_examples=64)
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(fresh.model_copy(update={"metrics": {**fresh.metrics, "edge_auroc": 0.0}}).model_dump(mode="json"))
    )
    stale = fresh.model_copy(update={"metrics": {**fresh.metrics, "empty_metric": 123.0}})
    (tmp_path / "stale.json").write_text(json.dumps(stale.model_dump(mode="json")))
    (tmp_path / "junk.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["rescore", str(tmp_path)])
    assert result.exit_code == 1
    assert "1 rescored, 1 skipped, 1 refused" in result.output and "stale.json: case 3" in result.output
    assert RunResult.model_validate_json(good.read_text()).metrics["edge_auroc"] == fresh.metrics["edge_auroc"]
    assert RunResult.model_validate_json((tmp_path / "stale.json").read_text()).metrics["empty_metric"] == 123.0
