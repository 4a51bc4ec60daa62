"""Generated documentation stays current."""

from pathlib import Path

from interpbench.cli_reference import render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cli_reference_is_current():
    assert (DOCS / "cli.md").read_text() == render(), "regenerate: python -m interpbench.cli_reference > docs/cli.md"
