"""The hard track: trained models whose known circuits hold the structures that break
circuit discovery (docs/hard-track.md).

Each structure is a preset of SIIT settings trained on top of the zoo's defaults:

- ``redundant``: one HL head implemented by three parallel LL heads, any two of which
  carry it (a majority: OR-like redundancy that one-at-a-time ablation cannot see);
- ``backup``: a primary head and a backup head in the free layer after it that is inert
  while the primary is clean and takes over when it is ablated (IOI's backup name movers);
- ``cancelling``: two positive heads and a negative one that offsets one of them
  (IOI's negative name movers; a pair whose joint ablation changes nothing);
- ``sparse``: the circuit in an LL model with twice the layers and eight heads per layer,
  so that most of the graph is not in the circuit.

What "in the circuit" means: every member of a group is in it (each is needed for some
ablation to behave as the HL model says), and the certificate measures every subset of
the group (``EvalResult.structure_per_subset``).
"""

from __future__ import annotations

from typing import Any

#: structure -> SIIT settings (on top of the zoo's defaults)
#: (``structure_match_weight`` 3: measured on case 13's redundant model, weight 1 left a subset
#: that must change nothing at KL 0.015 after 1,100 steps and weight 10 slowed everything else;
#: weight 3 met the 0.001 bound in 1,900 steps.)
PRESETS: dict[str, dict[str, Any]] = {
    "redundant": {"structure": "redundant", "structure_match_weight": 3.0},
    "backup": {"structure": "backup", "layer_stride": 2, "structure_match_weight": 3.0},
    "cancelling": {"structure": "cancelling", "structure_match_weight": 3.0},
    "sparse": {"layer_stride": 2, "n_heads": 8},
}
STRUCTURES = tuple(PRESETS)
#: The largest effect (KL from the unablated outputs, or mean squared difference) a subset of a
#: structured group may have where it must leave the output unchanged: about an unmapped node's.
HIDDEN_EFFECT = 1e-3


def preset(structure: str) -> dict[str, Any]:
    if structure not in PRESETS:
        raise ValueError(f"unknown hard-track structure {structure!r}; known: {', '.join(STRUCTURES)}")
    return dict(PRESETS[structure])
