"""The chance-level floor: seeded random edge scores. A method that does not beat it on a
case has learnt nothing about that case's circuit."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from pydantic import Field

from interpbench import MethodConfig, Scores, edge_key

if TYPE_CHECKING:
    from interpbench import DiscoveryTask


class RandomConfig(MethodConfig):
    """Args:
    keep: the share of edges selected (those scoring above 1 - keep).
    """

    keep: float = Field(0.5, ge=0, le=1, description="Edges scoring above 1 - keep are selected.")


def run(task: DiscoveryTask, config: RandomConfig) -> Scores:
    rng = random.Random(f"{task.case.name}/{task.seed}")  # the same scores for a case and seed, in any process
    edges = task.edge_scores(rng.random() for _ in task.graph.edges)
    selected = [edge_key(e.sender, e.receiver) for e in edges if e.score > 1 - config.keep]
    return Scores(level="edge", edges=edges, selected=selected)


METHODS = [
    dict(
        name="random",
        description="Seeded random edge scores: the chance-level floor every method must beat.",
        level="edge",
        config=RandomConfig,
        run=run,
    )
]
