"""A third-party interpbench method: random edge scores, the chance-level baseline.

Everything a method plugin needs is ``hookimpl`` and a pydantic config; the method
receives a DiscoveryTask and returns one score per edge of ``task.graph``.
"""

import random

from pydantic import BaseModel, ConfigDict, Field

from interpbench import hookimpl


class RandomConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: float = Field(0.5, ge=0, le=1, description="Edges scoring above 1 - keep are selected.")


def random_scores(task, config: RandomConfig):
    rng = random.Random(task.seed)
    scores = {f"{s}->{r}": rng.random() for s, r in task.graph.edges}
    return scores  # the host turns {edge: score} into validated Scores


@hookimpl
def register_methods(register):
    register(
        name="random",
        description="Random edge scores: the chance-level baseline every method should beat.",
        level="edge",
        config=RandomConfig,
        run=random_scores,
    )
