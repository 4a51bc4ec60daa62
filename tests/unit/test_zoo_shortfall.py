"""Why a zoo model is not certified: what `interpbench zoo` and docs/zoo.md tell the reader."""

from interpbench.siit.zoo import shortfall


def row(**numbers):
    base = dict(passed=False, threshold=0.995, joint_threshold=0.99, accuracy=1.0, iia=1.0, strict_accuracy=1.0,
                joint_strict_accuracy=1.0, structure_accuracy=None, structure_hidden_effect=None,
                weakest_iia=None, weakest_strict=None)  # fmt: skip
    return base | numbers


def test_a_certified_model_has_no_shortfall():
    assert shortfall(row(passed=True, iia=0.5)) == ""


def test_each_number_below_its_threshold_is_named_with_the_node_that_pulls_it_down():
    text = shortfall(row(iia=0.83, weakest_iia=["blocks.1.attn.hook_result[0]", 0.31], joint_strict_accuracy=0.95))
    assert text == (
        "iia 0.8300 < 0.995 (lowest: blocks.1.attn.hook_result[0] 0.3100); joint strict accuracy 0.9500 < 0.99"
    )


def test_numbers_at_their_thresholds_pass_and_a_hidden_effect_is_named():
    assert shortfall(row(iia=0.995, joint_strict_accuracy=0.99, structure_hidden_effect=0.01)) == (
        "hidden effect 0.01 > 0.001"
    )
