"""The allow-listed unpickler: containers, strings, numbers and the few classes published
configs hold, never arbitrary code; and a bounded check of what it built."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.formats.interpbench_dir.layout import PICKLE_LIMIT
from interpbench.formats.model_files import read_regular

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
