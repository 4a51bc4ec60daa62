"""Generated documentation stays current."""

import re
import subprocess
from pathlib import Path

import pytest
from docs_gen import GENERATED  # tools/docs_gen.py (pythonpath in pyproject)

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_docs_are_current(name, fresh_registry):
    assert (DOCS / name).read_text() == GENERATED[name](), f"regenerate: python tools/docs_gen.py ({name})"


ROOT = DOCS.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize(
    "page", ["README.md", "benchmarks/README.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))]
)
def test_relative_links_point_at_files_in_the_repository(page):
    """A link in the docs must reach a file a fresh clone has (not one left ignored)."""
    tracked = set(
        subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    )
    path = ROOT / page
    for target in LINK.findall(path.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (path.parent / target).resolve().relative_to(ROOT)
        is_dir = any(t.startswith(f"{resolved.as_posix()}/") for t in tracked)
        assert resolved.as_posix() in tracked or is_dir, f"{page} links to {target}, which git does not track"


def test_the_published_zoo_leaderboard_is_what_its_committed_runs_give():
    """docs/results/zoo.md is `interpbench report docs/results/zoo-runs.jsonl`: a number in the
    leaderboard cannot be edited by hand or left behind when the runs change."""
    from interpbench.results.report import render

    text, skipped = render(DOCS / "results" / "zoo-runs.jsonl")
    assert not skipped
    assert (DOCS / "results" / "zoo.md").read_text() == text, "regenerate: interpbench report ... (docs/leaderboard.md)"
