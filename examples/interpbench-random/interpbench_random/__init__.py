"""A third-party interpbench method: random edge scores, the chance-level baseline.

Everything a method plugin needs is ``hookimpl`` and a pydantic config; the method
receives a DiscoveryTask and returns one score per edge of ``task.graph``.
"""

import functools
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


# --- a loader: GPT-2-shaped models with random weights ---------------------------------------

#: n_layers, n_heads, d_model, d_mlp: GPT-2 small's shape, and a tiny one of the same kind.
SHAPES = {"gpt2-small-random": (12, 12, 768, 3072), "gpt2-tiny-random": (2, 4, 64, 256)}


def random_gpt2(case, *, seed: int = 0, options=None, shape: str = "gpt2-small-random"):
    """A GPT-2-shaped HookedTransformer (pre-LayerNorm, GELU, GPT-2's vocabulary of 50,257
    tokens) with seeded random weights, reading the case's inputs. Its circuit is unknown,
    so the ground-truth metrics are n/a; faithfulness and timing are not."""
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    from interpbench import Circuit, LoadedModel

    n_layers, n_heads, d_model, d_mlp = SHAPES[shape]
    vocabulary = ["BOS", "PAD", *sorted(case.vocab, key=lambda v: (str(type(v)), v))]
    cfg = HookedTransformerConfig(
        n_layers=n_layers, n_heads=n_heads, d_model=d_model, d_head=d_model // n_heads, d_mlp=d_mlp,
        d_vocab=50257, n_ctx=case.max_seq_len, act_fn="gelu", normalization_type="LN", seed=seed,
    )  # fmt: skip
    model = HookedTransformer(cfg).eval()
    return LoadedModel(
        model=model,
        circuit=Circuit(level="edge", nodes=[], edges=[]),
        input_encoding={token: i for i, token in enumerate(vocabulary)},
        categorical=True,
        info={"origin": f"random weights, {n_layers} layers x {n_heads} heads, d_model {d_model}"},
    )


@hookimpl
def register_loaders(register):
    for name in SHAPES:
        register(
            name=name,
            description=f"A GPT-2-shaped model with random weights ({'x'.join(map(str, SHAPES[name][:2]))} heads).",
            load=functools.partial(random_gpt2, shape=name),
            options=(),
        )
