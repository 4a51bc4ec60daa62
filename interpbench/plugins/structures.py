"""The built-in hard-track structures (docs/hard-track.md): each a rule for which subsets of
a group of LL heads, resampled together, make the output follow the source."""

from __future__ import annotations

from interpbench import hookimpl


def majority(resampled: tuple[bool, ...]) -> bool:
    """Redundant copies: the output follows the source once most copies carry it."""
    return 2 * sum(resampled) > len(resampled)


def both(resampled: tuple[bool, ...]) -> bool:
    """Primary and backup: only with both resampled does the output follow the source."""
    return all(resampled)


def more_positive(resampled: tuple[bool, ...]) -> bool:
    """Two positive heads and a negative one: the source wins when more positive heads than
    negative ones carry it, so the negative head offsets a positive one."""
    positive, negative = resampled[0] + resampled[1], resampled[2]
    return positive > negative


@hookimpl
def register_structures(register):
    register(
        name="redundant",
        description="Three parallel copies of one HL head; any two carry it, one alone changes nothing (an OR).",
        roles=("copy", "copy", "copy"),
        layer_offsets=(0, 0, 0),
        follows=majority,
    )
    register(
        name="backup",
        description="A primary head and a backup in the next layer, inert until the primary is ablated.",
        roles=("primary", "backup"),
        layer_offsets=(0, 1),
        follows=both,
    )
    register(
        name="cancelling",
        description="Two positive heads and a negative head that offsets one of them when both are ablated.",
        roles=("positive", "positive", "negative"),
        layer_offsets=(0, 0, 0),
        follows=more_positive,
    )
