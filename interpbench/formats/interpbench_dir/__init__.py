"""Read and write the published InterpBench directory layout.

A published case directory (Hugging Face ``cybershiptrooper/InterpBench/<case>/``,
written by InterpBench's ``circuits_benchmark`` tools) holds:

- ``ll_model_cfg.pkl``: a pickled ``dict`` of ``HookedTransformerConfig`` fields
  (``cfg.to_dict()``, i.e. the config's ``__dict__``): ints, floats, strings, bools,
  ``None``, lists, plus ``torch.float32``-style dtypes, sometimes a ``torch.device``
  and a NumPy float (``initializer_range``). A few published cases pickle the
  ``HookedTransformerConfig`` object itself instead of the dict.
- ``ll_model.pth``: ``torch.save(ll_model.state_dict())`` of a ``HookedTransformer(cfg)``
  (``embed.W_E``, ``blocks.L.attn.W_Q`` ..., including the ``attn.mask``/``attn.IGNORE`` buffers).
- ``edges.pkl``: a pickled ``list`` of ``(sender, receiver)`` string tuples, the LL
  ground-truth circuit at ACDC-hook granularity, e.g.
  ``("blocks.0.hook_mlp_out", "blocks.1.hook_q_input[2]")``, ``("hook_embed", "blocks.0.hook_mlp_in")``,
  ``("blocks.1.attn.hook_result[2]", "blocks.1.hook_resid_post")``, and the head-internal
  ``("blocks.1.hook_q_input[2]", "blocks.1.attn.hook_q[2]")``.
- ``meta.json``: the training arguments (``atol``, ``lr``, ``iit_weight``, ``behavior_weight``,
  ``strict_weight``, ``epochs``, ``act_fn``, ...).

Nothing here runs ``pickle.load``: the two pickles go through an allow-listed
unpickler that builds only containers, strings and numbers, torch dtypes, a
``torch.device`` and NumPy numeric scalars, and the weights through
``torch.load(..., weights_only=True)``. See ``docs/interpbench-dir.md``.

This package reads and writes those files and translates edge names (``layout.py``:
file names and limits; ``unpickle.py``: the allow-listed unpickler and shape check;
``edges.py``: published edge names to ours and back; ``read.py``, ``write.py``). Building
a model from them, and gathering one of ours to write, is ``interpbench.siit.published``.
"""

from interpbench.formats.interpbench_dir.edges import edges_to_published, published_to_edges
from interpbench.formats.interpbench_dir.read import PublishedFiles, read_config, read_files, read_weights
from interpbench.formats.interpbench_dir.unpickle import SafeUnpickler, safe_unpickle
from interpbench.formats.interpbench_dir.write import config_fields, write_files

__all__ = [
    "SafeUnpickler", "safe_unpickle", "published_to_edges", "edges_to_published", "PublishedFiles",
    "read_config", "read_weights", "read_files", "config_fields", "write_files",
]  # fmt: skip
