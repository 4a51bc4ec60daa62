"""InterpBench's method conventions, offered as options, checked against direct computations."""

import pytest
import torch

from interpbench.compiler import load_compiled
from interpbench.plugins.methods.eap import EAPConfig, run_eap
from interpbench.runner import make_task


@pytest.mark.parametrize("case", ["3", "8"])  # numerical (mean absolute error) and categorical (cross-entropy)
def test_interpbench_eap_is_the_absolute_batch_summed_mask_gradient(case):
    """auto-circuit's mask gradient, computed directly: every edge's mask interpolates between
    the ablated (0) and the clean (1) input, InterpBench's loss is differentiated at the clean
    model (all masks 1), and the edge's score is |dL/dmask| of the whole batch."""
    task = make_task(case, "siit", seed=0, n_examples=64)
    engine = task.engine
    truth = load_compiled(task.case).model(task.clean).detach()
    mask = engine.valid.clone()[None].requires_grad_(True)  # [1, R, S], all kept
    logits = engine.run(mask, "resample")[0]
    if task.categorical:
        answer = truth.argmax(-1)[:, 1:]
        loss = (
            torch.nn.functional.cross_entropy(
                logits[:, 1:].reshape(-1, logits.shape[-1]), answer.reshape(-1), reduction="sum"
            )
            / logits.shape[0]
        )
    else:
        loss = (logits[:, 1:, 0] - truth[:, 1:, 0]).abs().mean()
    (grad,) = torch.autograd.grad(loss, mask)
    direct = grad[0, engine.edge_r, engine.edge_s].abs()

    scores = run_eap(task, EAPConfig(score="interpbench"))
    ours = torch.tensor([e.score for e in scores.edges])
    assert torch.allclose(ours, direct, rtol=1e-4, atol=1e-7 * float(direct.max()))
    # and it is not the default convention: per-example absolute values do not cancel
    default = torch.tensor([e.score for e in run_eap(task, EAPConfig()).edges])
    assert not torch.allclose(default / default.max(), ours / ours.max(), atol=1e-3)
