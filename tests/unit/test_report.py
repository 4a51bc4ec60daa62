"""Report numbers against hand-computed values; statistics against scipy."""

import io
import json

import pandas as pd
import pytest
from scipy.stats import wilcoxon

from interpbench.results.report import (
    archive,
    leaderboard,
    load_results,
    pairwise,
    per_case,
    render,
    vargha_delaney_a12,
)
from interpbench.schemas import RunResult

AUROCS = {  # method -> case -> edge AUROC
    "acdc": {"1": 1.0, "2": 0.5, "3": 0.75, "4": 0.9},
    "eap": {"1": 0.8, "2": 0.6, "3": 0.25, "4": 0.7},
}


def record(case, method, auroc, seed=0):
    return RunResult(
        case=case,
        loader="tracr",
        method=method,
        config={},
        seed=seed,
        versions={},
        metrics={"edge_auroc": auroc, "node_auroc": None},
        created="2026-01-01T00:00:00+00:00",
    ).model_dump(mode="json")


@pytest.fixture
def results(tmp_path):
    for method, cases in AUROCS.items():
        for case, auroc in cases.items():
            (tmp_path / f"{method}-{case}.json").write_text(json.dumps(record(case, method, auroc)))
    return tmp_path


def test_leaderboard_matches_hand_computation(results):
    board = leaderboard(load_results(results).frame).set_index("method")
    assert board.loc["acdc", "cases"] == 4
    assert board.loc["acdc", "edge_auroc_mean"] == pytest.approx((1.0 + 0.5 + 0.75 + 0.9) / 4)
    assert board.loc["acdc", "edge_auroc_median"] == pytest.approx((0.75 + 0.9) / 2)
    assert board.loc["eap", "edge_auroc_mean"] == pytest.approx((0.8 + 0.6 + 0.25 + 0.7) / 4)
    assert list(board.index) == ["acdc", "eap"]  # best first


def test_per_case_table(results):
    table = per_case(load_results(results).frame)
    assert list(table.index) == ["1", "2", "3", "4"]
    assert table.loc["3", "eap (tracr)"] == 0.25


def test_statistics_match_scipy_and_the_definition(results):
    stats = pairwise(load_results(results).frame).iloc[0]
    xs = [AUROCS["acdc"][c] for c in "1234"]
    ys = [AUROCS["eap"][c] for c in "1234"]
    assert (stats["method_a"], stats["method_b"], stats["cases"]) == ("acdc", "eap", 4)
    assert stats["wilcoxon_p"] == pytest.approx(wilcoxon(xs, ys).pvalue)
    # A12 by hand: of the 16 (acdc, eap) pairs, acdc wins 12, ties 0.
    wins = sum(x > y for x in xs for y in ys) + 0.5 * sum(x == y for x in xs for y in ys)
    assert stats["a12"] == pytest.approx(wins / 16)


def test_a12_extremes():
    assert vargha_delaney_a12([1, 2], [1, 2]) == 0.5
    assert vargha_delaney_a12([3, 4], [1, 2]) == 1.0


def test_bad_and_newer_files_are_skipped_by_name(results):
    (results / "garbage.json").write_text("{not json")
    newer = record("1", "acdc", 0.1)
    newer["schema_version"] = 999
    (results / "from-the-future.json").write_text(json.dumps(newer))
    text, skipped = render(results)
    assert any(s.startswith("garbage.json") for s in skipped)
    assert any(s.startswith("from-the-future.json") and "newer schema" in s for s in skipped)
    assert "| acdc | tracr | 4 |" in text  # the report still renders, without them


@pytest.mark.parametrize("fmt", ["markdown", "csv", "html"])
def test_every_format_renders(results, fmt):
    text, _ = render(results, fmt)
    assert "acdc" in text
    if fmt == "csv":
        assert len(pd.read_csv(__import__("io").StringIO(text))) == 8
    if fmt == "html":
        assert 'src="data:image/png;base64,' in text


def test_configurations_of_one_method_are_separate_rows(tmp_path):
    """Two ablations of ACDC on one case are two variants, never one averaged row."""
    for ablation, auroc in (("resample", 0.6), ("auto", 1.0)):
        data = record("3", "acdc", auroc)
        data["config"] = {"ablation": ablation, "threshold": 0.025}
        (tmp_path / f"acdc-{ablation}.json").write_text(json.dumps(data))
    board = leaderboard(load_results(tmp_path).frame).set_index("variant")
    assert board.loc["acdc [ablation=auto]", "edge_auroc_mean"] == 1.0
    assert board.loc["acdc [ablation=resample]", "edge_auroc_mean"] == 0.6
    assert set(pairwise(load_results(tmp_path).frame)[["method_a", "method_b"]].iloc[0]) == set(board.index)


def test_a_setting_added_later_as_none_is_not_a_configuration(tmp_path):
    """Records written before a setting existed lack it; with its default none they are one method."""
    for case, extra in (("3", {}), ("4", {"batch_size": None})):
        data = record(case, "edge-sp", 0.9)
        data["config"] = {"epochs": 300, **extra}
        (tmp_path / f"sp-{case}.json").write_text(json.dumps(data))
    board = leaderboard(load_results(tmp_path).frame).set_index("variant")
    assert list(board.index) == ["edge-sp"] and board.loc["edge-sp", "cases"] == 2


def test_bootstrap_intervals_contain_the_statistic_and_shrink_with_more_cases(results):
    from interpbench.results.report import bootstrap_ci

    board = leaderboard(load_results(results).frame).set_index("method")
    row = board.loc["acdc"]
    assert row["edge_auroc_mean_ci_low"] <= row["edge_auroc_mean"] <= row["edge_auroc_mean_ci_high"]
    assert row["edge_auroc_median_ci_low"] <= row["edge_auroc_median"] <= row["edge_auroc_median_ci_high"]
    assert bootstrap_ci([0.7] * 5) == (0.7, 0.7)
    few, many = bootstrap_ci([0.0, 1.0] * 3), bootstrap_ci([0.0, 1.0] * 300)
    assert many[1] - many[0] < few[1] - few[0]
    assert few[0] >= 0.0 and few[1] <= 1.0
    assert bootstrap_ci([0.2, 0.4, 0.9]) == bootstrap_ci([0.2, 0.4, 0.9])  # seeded: the same interval every time


def test_html_report_escapes_everything_and_reads_as_a_leaderboard(results):
    hostile = RunResult(
        case="2",
        loader="tracr",
        method="acdc",
        config={},
        seed=1,
        versions={},
        status="failed",
        error="<script>alert(1)</script> | broken\nline",
        created="2026-01-01T00:00:00+00:00",
    ).model_dump(mode="json")
    (results / "hostile.json").write_text(json.dumps(hostile))
    text, _ = render(results, "html")
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert 'class="sortable"' in text and "95% CI" in text
    page = text.split("<script>")[0]  # the sorting script says isNaN
    assert ">NaN<" not in page and ">nan<" not in page
    assert 'class="na" title=' in text  # n/a carries its reason
    markdown, _ = render(results, "markdown")
    failed_row = [line for line in markdown.splitlines() if "alert" in line][0]
    assert failed_row.count(" | ") == 3 and "<script>" not in failed_row  # four cells, one line, no live HTML


def test_html_report_draws_each_methods_circuit(tmp_path):
    data = record("3", "acdc", 0.9)
    data["sets"] = {
        "edge_tp": ["hook_embed->blocks.0.hook_mlp_out"],
        "edge_fp": ["blocks.0.attn.hook_result[1]->blocks.1.hook_resid_post"],
        "edge_fn": ["blocks.0.hook_mlp_out->blocks.1.attn.hook_result[0]"],
    }
    (tmp_path / "r.json").write_text(json.dumps(data))
    text, _ = render(tmp_path, "html")
    assert text.count("<svg") == 1
    assert "#2e7d32" in text and "#ef6c00" in text and "stroke-dasharray" in text  # found, false, missed
    assert "1 found, 1 false, 1 missed" in text


def test_per_loader_means_are_paired_over_the_cases_every_loader_has(tmp_path):
    from interpbench.results.report import by_loader

    rows = {("siit", "1"): 1.0, ("siit", "2"): 0.8, ("siit", "3"): 0.9,  # case 3: no hard model
            ("hard-redundant", "1"): 0.5, ("hard-redundant", "2"): 0.7}  # fmt: skip
    for (loader, case), auroc in rows.items():
        r = record(case, "acdc", auroc)
        r["loader"] = loader
        (tmp_path / f"{loader}-{case}.json").write_text(json.dumps(r))
    table = by_loader(load_results(tmp_path).frame).set_index("method")
    assert table.loc["acdc", "cases"] == 2
    assert table.loc["acdc", "siit"] == pytest.approx((1.0 + 0.8) / 2)  # case 3 left out: not paired
    assert table.loc["acdc", "hard-redundant"] == pytest.approx((0.5 + 0.7) / 2)
    assert by_loader(load_results(tmp_path).frame[lambda f: f["loader"] == "siit"]).empty


def test_loader_effects_are_paired_changes_with_their_statistics(tmp_path):
    from interpbench.results.report import loader_effects

    siit = {"1": 1.0, "2": 0.8, "3": 0.9, "4": 0.95, "5": 1.0, "6": 0.7}
    hard = {"1": 0.5, "2": 0.7, "3": 0.9, "4": 0.6, "5": 0.8}  # case 6 has no hard model
    for loader, aurocs in (("siit", siit), ("hard-backup", hard)):
        for case, auroc in aurocs.items():
            r = record(case, "acdc", auroc)
            r["loader"] = loader
            (tmp_path / f"{loader}-{case}.json").write_text(json.dumps(r))
    row = loader_effects(load_results(tmp_path).frame).set_index("loader").loc["hard-backup"]
    ours, theirs = [hard[c] for c in sorted(hard)], [siit[c] for c in sorted(hard)]
    assert row["cases"] == 5
    assert row["mean change"] == pytest.approx(sum(h - s for h, s in zip(ours, theirs)) / 5)
    assert row["wilcoxon_p"] == pytest.approx(wilcoxon(ours, theirs).pvalue)
    assert row["a12"] == pytest.approx(vargha_delaney_a12(ours, theirs)) and row["a12"] < 0.5
    assert loader_effects(load_results(tmp_path).frame[lambda f: f["loader"] == "siit"]).empty


def test_a_records_file_reproduces_the_report_without_the_scores(results, tmp_path_factory):
    """``report --format records``: committed beside a report, it renders the same report; the
    per-edge scores and the sets and curves the report does not draw are left out."""
    full = record("1", "acdc", 1.0)
    full["scores"] = {"level": "node", "nodes": {"blocks.0.hook_mlp_out": 0.5}}
    full["sets"] = {"edge_tp": ["a->b"], "edge_fp": [], "edge_fn": [], "edge_gt": ["a->b"], "node_gt_constant": []}
    full["curves"] = {"edge_roc": [[0.0, 0.0], [1.0, 1.0]], "edge_qkv_roc": [[0.0, 0.0], [1.0, 1.0]]}
    (results / "acdc-1.json").write_text(json.dumps(full))
    text, skipped = archive([results])
    lines = [json.loads(line) for line in text.splitlines()]
    assert not skipped and len(lines) == 8
    (kept,) = [r for r in lines if (r["case"], r["method"]) == ("1", "acdc")]
    assert kept["scores"] is None and kept["curves"] == {"edge_roc": [[0.0, 0.0], [1.0, 1.0]]}
    assert kept["sets"] == {"edge_tp": ["a->b"], "edge_fp": [], "edge_fn": [], "node_gt_constant": []}
    records = tmp_path_factory.mktemp("archive") / "zoo-runs.jsonl"
    records.write_text(text)
    assert render(records)[0] == render(results)[0]

    def table(source):
        frame = pd.read_csv(io.StringIO(render(source, "csv")[0])).drop(columns="file")
        return frame.sort_values(["method", "case"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(records), table(results))


def test_a_run_in_a_records_file_and_a_later_sweep_counts_once_as_the_later_one(results, tmp_path_factory):
    records = tmp_path_factory.mktemp("archive") / "zoo-runs.jsonl"
    records.write_text(archive([results])[0])
    newer = tmp_path_factory.mktemp("newer")
    (newer / "acdc-2.json").write_text(json.dumps(record("2", "acdc", 0.1)))
    frame = load_results(records, newer).frame
    assert len(frame) == 8
    assert frame.set_index(["method", "case"]).loc[("acdc", "2"), "edge_auroc"] == 0.1


def test_a_file_that_is_not_a_records_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("{}")
    with pytest.raises(ValueError, match="neither a results folder nor a records file"):
        load_results(tmp_path / "notes.txt")
