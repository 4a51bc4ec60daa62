"""The patching engine: the model's forward pass over an explicit edge graph.

Every discovery method asks the same question: what does the model output when some
edges carry ablated (corrupted, mean or zero) activations instead of their own? The
engine answers it without per-edge hooks. A receiver's input is the sum of its
senders' outputs, so with ``delta_s = patched_s - ablated_s`` it is

    input_r = sum_s ablated_s + sum_s mask[r, s] * delta_s   (+ the attention biases)

Masks carry a leading circuit dimension, so a whole ROC sweep or a set of ACDC
candidates is one call. Without gradients the call computes each distinct node
activation once (``PatchingEngine._run_shared``): a node whose inputs a circuit leaves
clean reuses the cached clean pass, a node no kept path connects to the logits is
skipped, and circuits that feed a node the same inputs share its output. Nested
circuits, as a threshold sweep or ACDC's candidate chains produce, share most of them.
With gradients (subnetwork probing) the pass is one ``bmm`` per receiver group.

Shapes: ``S`` senders, ``R`` receivers, ``C`` circuits, ``B`` batch, ``P`` positions,
``D`` d_model, ``H`` heads.

Layout: ``patching.py`` holds ``PatchingEngine``, ``passes.py`` the state of one pass
for each way of computing receiver inputs, ``validation.py`` the validation metrics.
"""

from interpbench.engine.patching import ABLATIONS, Ablation, PatchingEngine

__all__ = ["ABLATIONS", "Ablation", "PatchingEngine"]
