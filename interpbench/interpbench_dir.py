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
"""

from __future__ import annotations

import io
import json
import pickle
import re
from pathlib import Path
from typing import Any

from interpbench import graph as g
from interpbench.errors import InterpbenchError
from interpbench.model_files import build_config, check_regular, read_regular

CFG_FILE = "ll_model_cfg.pkl"
WEIGHTS_FILE = "ll_model.pth"
EDGES_FILE = "edges.pkl"
META_FILE = "meta.json"
PICKLE_LIMIT = 64 * 2**20  # config, edges and meta of the largest published model are kilobytes

# HookedTransformerConfig fields that TransformerLens 1.x (InterpBench pins 1.14-1.19)
# and today's TransformerLens both accept: ``HookedTransformerConfig.from_dict`` is
# ``cls(**d)``, so a field an older TransformerLens does not know would break its loader.
WRITE_FIELDS = (
    "n_layers d_model n_ctx d_head model_name n_heads d_mlp act_fn d_vocab eps use_attn_result "
    "use_attn_scale use_split_qkv_input use_hook_mlp_in use_attn_in use_local_attn original_architecture "
    "from_checkpoint checkpoint_index checkpoint_label_type checkpoint_value tokenizer_name window_size "
    "attn_types init_mode normalization_type device n_devices attention_dir attn_only seed initializer_range "
    "init_weights scale_attn_by_inverse_layer_idx positional_embedding_type final_rms d_vocab_out "
    "parallel_attn_mlp rotary_dim n_params use_hook_tokens gated_mlp dtype default_prepend_bos"
).split()


# --- allow-listed unpickling ------------------------------------------------------------

_TORCH_DTYPES = (
    "float64 float32 float16 bfloat16 double float half int64 int32 int16 int8 uint8 long int short bool "
    "complex64 complex128"
).split()
_NUMPY_CODES = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"}


class _NumpyDtype:
    """Stands in for ``numpy.dtype(code, align, copy)`` while unpickling a NumPy scalar."""

    def __init__(self, code: Any, align: Any = False, copy: Any = True) -> None:
        if code not in _NUMPY_CODES:
            raise pickle.UnpicklingError(f"NumPy dtype {code!r} is not allowed")
        self.code = code

    def __setstate__(self, state: Any) -> None:  # (version, byteorder, ...): byteorder only
        self.byteorder = state[1] if isinstance(state, tuple) and len(state) > 1 else "<"


def _numpy_scalar(dtype: Any, data: Any = None) -> int | float | bool:
    import numpy as np

    if not isinstance(dtype, _NumpyDtype) or not isinstance(data, bytes):
        raise pickle.UnpicklingError("malformed NumPy scalar")
    order = getattr(dtype, "byteorder", "<")
    order = order if order in "<>=|" else "<"
    return np.frombuffer(data, dtype=np.dtype(order + dtype.code if dtype.code != "b1" else "b1"))[0].item()


def _torch_device(kind: Any, index: Any = None):
    import torch

    if not isinstance(kind, str) or not (index is None or isinstance(index, int)):
        raise pickle.UnpicklingError("malformed torch.device")
    return str(torch.device(kind) if index is None else torch.device(kind, index))


class _PickledConfig:
    """Stands in for a pickled ``HookedTransformerConfig`` object: keeps its fields only."""

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = state[0]
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("malformed HookedTransformerConfig state")
        self.fields = dict(state)


_CONFIG_CLASSES = {
    ("transformer_lens.HookedTransformerConfig", "HookedTransformerConfig"),
    ("transformer_lens.config.HookedTransformerConfig", "HookedTransformerConfig"),
    ("transformer_lens.config.hooked_transformer_config", "HookedTransformerConfig"),
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only what published InterpBench files need.

    Containers, strings, numbers, booleans and ``None`` need no class lookup at all;
    ``find_class`` additionally permits: ``builtins.set``/``frozenset``; ``torch.<dtype>``
    (the dtype objects themselves, e.g. ``torch.float32``); ``torch.device`` (rebuilt as
    its string); ``numpy`` numeric scalars (decoded to Python numbers, via local
    stand-ins, never NumPy's own reconstructors); and, for ``ll_model_cfg.pkl``, the
    ``HookedTransformerConfig`` class, replaced by a stand-in that only records the
    pickled fields (TransformerLens code never runs). Anything else is refused.
    """

    def __init__(self, file, *, allow_config_object: bool = False) -> None:
        super().__init__(file)
        self.allow_config_object = allow_config_object

    def find_class(self, module: str, name: str) -> Any:
        import torch

        if module == "builtins" and name in ("set", "frozenset"):
            return {"set": set, "frozenset": frozenset}[name]
        if module == "torch" and name in _TORCH_DTYPES and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module == "torch" and name == "device":
            return _torch_device
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "scalar":
            return _numpy_scalar
        if module == "numpy" and name == "dtype":
            return _NumpyDtype
        if self.allow_config_object and (module, name) in _CONFIG_CLASSES:
            return _PickledConfig
        raise pickle.UnpicklingError(f"refused to load {module}.{name} (not on the allow-list)")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("persistent ids are not allowed")


MAX_DEPTH = 16  # a config is a flat dict, edges a list of pairs: anything deeper is not ours
MAX_ITEMS = 1_000_000


def check_shape(obj: Any, source: str) -> Any:
    """Refuse a structure nested deeper than ``MAX_DEPTH`` or with more than ``MAX_ITEMS``
    items counted along every path (a "billion laughs" of shared references counts each
    time it is reached), before anything recurses into it or hashes it."""
    stack, seen = [(obj, 0)], 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_ITEMS:
            raise InterpbenchError(f"{source}: more than {MAX_ITEMS} items (a pickle bomb?)")
        if isinstance(item, (list, tuple, set, frozenset, dict)):
            if depth >= MAX_DEPTH:
                raise InterpbenchError(f"{source}: nested deeper than {MAX_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return obj


def safe_unpickle(path: str | Path, *, allow_config_object: bool = False) -> Any:
    """Unpickle ``path`` with ``SafeUnpickler`` and check its shape; refusals raise
    ``InterpbenchError`` naming the file."""
    path = Path(path)
    data = read_regular(path, limit=PICKLE_LIMIT)
    try:
        obj = SafeUnpickler(io.BytesIO(data), allow_config_object=allow_config_object).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, RecursionError) as e:
        raise InterpbenchError(f"unsafe or malformed pickle {path}: {_first_line(e)}") from None
    return check_shape(getattr(obj, "fields", obj), str(path))


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


# --- edges ---------------------------------------------------------------------------------

_HEAD_INTERNAL = re.compile(r"^blocks\.(\d+)\.attn\.hook_(q|k|v|z|result|pattern|attn_scores)\[(\d+)\]$")
_QKV_IN = re.compile(r"^blocks\.(\d+)\.hook_(q|k|v)_input\[(\d+)\]$")
_HEAD_OUT = re.compile(r"^blocks\.(\d+)\.attn\.hook_result\[(\d+)\]$")
_MLP_OUT = re.compile(r"^blocks\.(\d+)\.hook_mlp_out$")
_MLP_IN = re.compile(r"^blocks\.(\d+)\.(hook_mlp_in|mlp\.hook_pre)$")
_RESID_POST = re.compile(r"^blocks\.(\d+)\.hook_resid_post$")
_RESID_PRE0 = "blocks.0.hook_resid_pre"


def _component(name: str) -> tuple | None:
    """The head or MLP a node belongs to (to recognise head/MLP-internal edges)."""
    for pattern in (_QKV_IN, _HEAD_INTERNAL):
        if m := pattern.match(name):
            return ("head", int(m[1]), int(m[3]))
    if m := (_MLP_OUT.match(name) or _MLP_IN.match(name)):
        return ("mlp", int(m[1]))
    if m := re.match(r"^blocks\.(\d+)\.mlp\.hook_post$", name):
        return ("mlp", int(m[1]))
    return None


def _senders(name: str) -> list[str]:
    if name in (g.EMBED, g.POS_EMBED):
        return [name]
    if name == _RESID_PRE0:  # ACDC without use_pos_embed: both embeddings
        return [g.EMBED, g.POS_EMBED]
    if _HEAD_OUT.match(name) or _MLP_OUT.match(name):
        return [name]
    if m := re.match(r"^blocks\.(\d+)\.mlp\.hook_post$", name):
        return [g.mlp_out(int(m[1]))]
    raise ValueError(f"unknown sender node {name!r}")


def _receivers(name: str, last_layer: int) -> list[str]:
    if _QKV_IN.match(name):
        return [name]
    if m := _MLP_IN.match(name):
        return [g.mlp_in(int(m[1]))]
    if m := _HEAD_OUT.match(name):  # head-level edge: the head reads through q, k and v
        return [g.head_in(int(m[1]), int(m[2]), x) for x in "qkv"]
    if m := _MLP_OUT.match(name):  # head-level edge into an MLP
        return [g.mlp_in(int(m[1]))]
    if _RESID_POST.match(name):  # the final residual stream (HL edges name the HL's last layer)
        return [g.resid_post(last_layer)]
    raise ValueError(f"unknown receiver node {name!r}")


def edges_to_circuit(edges: Any, n_layers: int, *, source: str = EDGES_FILE):
    """Published edges -> our edge-level ``Circuit``.

    Head-internal edges (``hook_q_input[H] -> attn.hook_q[H]``, ``hook_mlp_in -> hook_mlp_out``)
    are dropped: our graph's receivers already are the heads' q/k/v inputs. Head-level
    edges (into ``attn.hook_result[H]``) expand to the head's q, k and v inputs;
    ``blocks.0.hook_resid_pre`` expands to ``hook_embed`` and ``hook_pos_embed``;
    ``blocks.L.hook_resid_post`` becomes the last layer's.
    """
    from interpbench.compiler.ground_truth import make_circuit

    if not isinstance(edges, (list, tuple, set, frozenset)):
        raise InterpbenchError(f"{source}: expected a list of (sender, receiver) edges, got {type(edges).__name__}")
    out: set[tuple[str, str]] = set()
    expanded = False
    for edge in edges:
        if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(isinstance(n, str) for n in edge)):
            raise InterpbenchError(f"{source}: an edge is not a (sender, receiver) pair of strings: {edge!r}")
        s, r = edge
        cs, cr = _component(s), _component(r)
        if cs is not None and cs == cr:
            continue  # internal to one head or MLP
        try:
            senders, receivers = _senders(s), _receivers(r, n_layers - 1)
        except ValueError as e:
            raise InterpbenchError(f"{source}: {e}") from None
        expanded |= len(senders) > 1 or len(receivers) > 1
        out |= {(a, b) for a in senders for b in receivers}
    return make_circuit(out, "edge"), expanded


def circuit_to_edges(circuit) -> list[tuple[str, str]]:
    """Our edge-level circuit -> InterpBench's edge list (with the q/k/v-internal edges it lists)."""
    edges = sorted(circuit.edge_set())
    internal = sorted({(r, f"blocks.{m[1]}.attn.hook_{m[2]}[{m[3]}]") for _, r in edges if (m := _QKV_IN.match(r))})
    return [(s, r) for s, r in edges] + internal


# --- reading -------------------------------------------------------------------------------


def read_config(path: str | Path) -> dict[str, Any]:
    """``ll_model_cfg.pkl`` as a plain dict of HookedTransformerConfig fields."""
    obj = safe_unpickle(path, allow_config_object=True)
    if isinstance(obj, _PickledConfig):
        obj = getattr(obj, "fields", None)
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise InterpbenchError(f"{path}: expected a dict of HookedTransformerConfig fields")
    return obj


def read_weights(path: str | Path) -> dict[str, Any]:
    import torch

    path = check_regular(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InterpbenchError(
            f"refused to load {path}: it holds objects other than tensors (torch.load weights_only=True: {first})"
        ) from None
    except (OSError, RuntimeError, EOFError) as e:
        raise InterpbenchError(f"cannot read weights {path}: {e}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InterpbenchError(f"{path}: expected a state dict of tensors")
    return state


def read_dir(directory: str | Path, case):
    """A published InterpBench case directory as a ``LoadedModel`` for ``case``."""
    from transformer_lens import HookedTransformer

    from interpbench.compiler import load_compiled
    from interpbench.task import LoadedModel

    directory = Path(directory)
    missing = [f for f in (CFG_FILE, WEIGHTS_FILE, EDGES_FILE) if not (directory / f).exists()]
    if missing:
        raise InterpbenchError(f"{directory} is not an InterpBench model directory: missing {', '.join(missing)}")
    meta: dict[str, Any] = {}
    if (directory / META_FILE).exists():
        try:
            meta = json.loads(read_regular(directory / META_FILE, limit=PICKLE_LIMIT))
        except ValueError as e:
            raise InterpbenchError(f"{directory / META_FILE}: {e}") from None
    name = str(getattr(case, "name", case))
    if "case" in meta and str(meta["case"]) != name:
        raise InterpbenchError(f"{directory} holds a model for case {meta['case']}, not case {name}")

    cfg, ignored = build_config(read_config(directory / CFG_FILE), source=str(directory / CFG_FILE))
    state = read_weights(directory / WEIGHTS_FILE)
    model = HookedTransformer(cfg)
    own = model.state_dict()
    buffers = {k for k in set(own) ^ set(state) if k.endswith((".mask", ".IGNORE"))}
    state = {k: v for k, v in state.items() if k not in buffers or k in own}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise InterpbenchError(f"{directory / WEIGHTS_FILE} does not fit its config: {e}") from None
    bad = [k for k in result.missing_keys + result.unexpected_keys if k not in buffers]
    if bad:
        raise InterpbenchError(f"{directory / WEIGHTS_FILE} does not fit its config: keys {', '.join(bad[:6])}")
    model.eval()

    edges = safe_unpickle(directory / EDGES_FILE)
    circuit, expanded = edges_to_circuit(edges, cfg.n_layers, source=str(directory / EDGES_FILE))

    # Token ids: an export from here records them; for a published model they are the case's
    # compiled encoding (InterpBench's tracr encoder may number tokens differently).
    if "input_encoding" in meta:
        encoding = {token: i for token, i in meta["input_encoding"]}
        output_values = meta.get("output_values")
        categorical = bool(meta.get("categorical", output_values is not None))
    else:
        compiled = load_compiled(case)
        encoding = compiled.input_encoding
        output_values = compiled.output_values
        categorical = bool(getattr(case, "categorical", output_values is not None))
    n_params = sum(p.numel() for p in model.parameters())
    return LoadedModel(
        model=model,
        circuit=circuit,
        input_encoding=encoding,
        categorical=categorical,
        output_values=output_values,
        default_ablation="resample",
        info={
            "origin": f"InterpBench directory ({directory})",
            "n_layers": cfg.n_layers,
            "n_heads": cfg.n_heads,
            "d_model": cfg.d_model,
            "d_head": cfg.d_head,
            "d_mlp": cfg.d_mlp,
            "parameters": n_params,
            "edges_expanded": expanded,
            **({"ignored_config_fields": ignored} if ignored else {}),
        },
    )


# --- writing -------------------------------------------------------------------------------


def config_fields(cfg) -> dict[str, Any]:
    """The config as InterpBench pickles it, restricted to fields every TransformerLens accepts."""
    d = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg.__dict__)
    out: dict[str, Any] = {}
    for k in WRITE_FIELDS:
        if k not in d:
            continue
        v = d[k]
        if k == "device":
            v = "cpu"
        elif hasattr(v, "item") and not hasattr(v, "is_floating_point"):  # NumPy scalars -> Python
            v = v.item()
        out[k] = v
    return out


def write_dir(case, loaded_or_directory, out: str | Path) -> Path:
    """Write the published layout for ``case`` from one of our trained directories
    (or a ``LoadedModel``) into ``out``."""
    import torch

    from interpbench.siit.store import load_circuit, load_model, read_meta
    from interpbench.task import LoadedModel

    name = str(getattr(case, "name", case))
    out = Path(out)
    source_meta: dict[str, Any] = {}
    if isinstance(loaded_or_directory, LoadedModel):
        loaded = loaded_or_directory
        model, circuit = loaded.model, loaded.circuit
        encoding, output_values, categorical = loaded.input_encoding, loaded.output_values, loaded.categorical
        origin = loaded.info.get("origin")
    else:
        directory = Path(loaded_or_directory)
        try:
            source_meta = read_meta(directory)
            model, circuit = load_model(directory), load_circuit(directory)
        except (OSError, KeyError, ValueError) as e:
            raise InterpbenchError(f"cannot read a trained model from {directory}: {e}") from None
        if "case" in source_meta and str(source_meta["case"]) != name:
            raise InterpbenchError(f"{directory} holds a model for case {source_meta['case']}, not case {name}")
        encoding = {t: i for t, i in source_meta["input_encoding"]}
        output_values = source_meta.get("output_values")
        categorical = bool(source_meta.get("categorical"))
        origin = str(directory)
    if circuit.level != "edge":
        raise InterpbenchError("only edge-level circuits can be exported")

    out.mkdir(parents=True, exist_ok=True)
    with open(out / CFG_FILE, "wb") as f:
        pickle.dump(config_fields(model.cfg), f, protocol=4)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, out / WEIGHTS_FILE)
    with open(out / EDGES_FILE, "wb") as f:
        pickle.dump(circuit_to_edges(circuit), f, protocol=4)

    hp = source_meta.get("hyperparameters", {})
    meta = {
        # InterpBench's own keys (its training arguments), where we have an equivalent.
        "atol": hp.get("atol", 0.05),
        "lr": hp.get("lr"),
        "iit_weight": hp.get("iit_weight"),
        "behavior_weight": hp.get("behavior_weight"),
        "strict_weight": hp.get("strict_weight"),
        "batch_size": hp.get("batch_size"),
        "act_fn": model.cfg.act_fn,
        "seed": source_meta.get("seed", hp.get("seed")),
        "same_size": False,
        # What we know besides.
        "case": name,
        "exported_by": "interpbench",
        "source": origin,
        "categorical": categorical,
        "input_encoding": [[t, i] for t, i in encoding.items()],
        "output_values": output_values,
        "passed": source_meta.get("passed"),
        "metrics": {k: v for k, v in source_meta.get("metrics", {}).items() if k in ("accuracy", "iia", "strict_accuracy")},
        "hyperparameters": hp,
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return out
