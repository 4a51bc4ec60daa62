"""Generated documentation stays current."""

from pathlib import Path

import pytest

from interpbench.docs_gen import GENERATED

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_docs_are_current(name, fresh_registry):
    assert (DOCS / name).read_text() == GENERATED[name](), f"regenerate: python -m interpbench.docs_gen ({name})"
