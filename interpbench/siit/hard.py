"""The hard track: trained models whose known circuits hold the structures that break
circuit discovery (docs/hard-track.md).

Its models are the registered structures' (``interpbench list structures``; the built-ins
``redundant``, ``backup`` and ``cancelling`` in ``interpbench.plugins.structures``), each
trained with SIIT on top of the zoo's defaults, plus ``sparse``: the circuit in an LL
model of at least four layers (twice the HL model's, the circuit's layers spread over them)
and eight heads per layer, so that most of the graph is not in the circuit.

What "in the circuit" means: every member of a group is in it (each is needed for some
ablation to behave as the HL model says), and the certificate measures every subset of
the group (``EvalResult.structure_per_subset``).
"""

from __future__ import annotations

from typing import Any

#: the shipped hard track (each has a loader, ``hard-<name>``, and a zoo folder)
TRACK = ("redundant", "backup", "cancelling", "sparse")
#: settings of the models without a group
UNGROUPED = {"sparse": {"layer_stride": 2, "n_layers": 4, "n_heads": 8}}
#: Measured on case 13's redundant model: weight 1 left a subset that must change nothing at
#: KL 0.015 after 1,100 steps, weight 10 slowed everything else, weight 3 met the bound in 1,900.
MATCH_WEIGHT = 3.0
#: The largest effect (KL from the unablated outputs, or mean squared difference) a subset of a
#: structured group may have where it must leave the output unchanged: about an unmapped node's.
HIDDEN_EFFECT = 1e-3


def names() -> list[str]:
    """Every structure a model can be trained with: the registered ones and the ungrouped."""
    from interpbench import registry

    return [s.name for s in registry.structures()] + list(UNGROUPED)


def preset(structure: str) -> dict[str, Any]:
    """The SIIT settings of a hard-track structure's models."""
    from interpbench import registry

    if structure in UNGROUPED:
        return dict(UNGROUPED[structure])
    if structure not in names():
        raise ValueError(f"unknown hard-track structure {structure!r}; known: {', '.join(names())}")
    spec = registry.get_structure(structure)
    return {"structure": structure, "layer_stride": spec.layer_stride, "structure_match_weight": MATCH_WEIGHT}
