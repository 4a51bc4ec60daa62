"""A third-party interpbench method: random edge scores, the chance-level baseline.

Everything a method plugin needs is ``hookimpl`` and a pydantic config; the method
receives a DiscoveryTask and returns one score per edge of ``task.graph``.
"""

import random

from pydantic import BaseModel, ConfigDict, Field

from interpbench import DiscoveryTask, EdgeScore, Scores, edge_key, hookimpl


class RandomConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: float = Field(0.5, ge=0, le=1, description="Edges scoring above 1 - keep are selected.")


def random_scores(task: DiscoveryTask, config: RandomConfig) -> Scores:
    rng = random.Random(task.seed)
    edges = [EdgeScore(sender=s, receiver=r, score=rng.random()) for s, r in task.graph.edges]
    selected = [edge_key(e.sender, e.receiver) for e in edges if e.score > 1 - config.keep]
    return Scores(level="edge", edges=edges, selected=selected)  # the host checks every edge is scored


@hookimpl
def register_methods(register):
    register(
        name="random-example",
        description="Random edge scores (the tutorial's copy of the built-in random baseline).",
        level="edge",
        config=RandomConfig,
        run=random_scores,
    )
