"""Model files read from disk, without running anything they name.

Every loader builds its ``HookedTransformerConfig`` here, from an explicit list of
fields with checked types and sizes. What else a file holds is ignored and
reported, never passed on: ``HookedTransformer(cfg)`` calls
``AutoTokenizer.from_pretrained(cfg.tokenizer_name, trust_remote_code=True)``, so a
config that could name a tokenizer could run code from a folder (or a hub) of the
file author's choosing. Reads are bounded in size and refuse special files (a FIFO
would block, ``/dev/zero`` would never end).
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError

#: The fields our configs are written with (trained directories, the compile cache).
STORED_FIELDS = (
    "n_layers d_model d_head n_heads d_mlp d_vocab d_vocab_out n_ctx act_fn normalization_type "
    "attention_dir default_prepend_bos use_attn_result use_split_qkv_input use_hook_mlp_in"
).split()

#: Hook points the patching engine reads; they add hooks and change no weight.
HOOK_FLAGS = ("use_attn_result", "use_split_qkv_input", "use_hook_mlp_in")

# Upper bounds checked before anything is allocated (GPT-2 XL fits inside all of them).
_SIZES = {
    "n_layers": 128,
    "n_heads": 128,
    "d_model": 8192,
    "d_head": 1024,
    "d_mlp": 65536,
    "d_vocab": 262144,
    "d_vocab_out": 262144,
    "n_ctx": 16384,
}
MAX_MODEL_BYTES = 8 * 2**30

_CHOICES: dict[str, set[str | None]] = {
    "act_fn": {"relu", "gelu", "silu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "solu_ln"},
    "normalization_type": {None, "LN", "LNPre", "RMS", "RMSPre"},
    "attention_dir": {"causal", "bidirectional"},
}
_FLAGS = {"default_prepend_bos", "use_attn_scale", "attn_only", *HOOK_FLAGS}

# Fields that change the computation in ways the engine does not model: accepted only
# at TransformerLens's default.
_DEFAULT_ONLY = {
    "positional_embedding_type": "standard",
    "parallel_attn_mlp": False,
    "gated_mlp": False,
    "use_local_attn": False,
    "scale_attn_by_inverse_layer_idx": False,
    "final_rms": False,
    "rotary_dim": None,
    "attn_types": None,
    "use_attn_in": False,
    "n_key_value_heads": None,
    "num_experts": None,
    "use_normalization_before_and_after": False,
    "attn_scores_soft_cap": -1.0,
    "output_logits_soft_cap": -1.0,
}


def _check(name: str, value: Any, source: str) -> Any:
    def refuse(why: str) -> InterpbenchError:
        return InterpbenchError(f"{source}: {name}={value!r} {why}")

    if name in _SIZES:
        if name == "d_mlp" and value is None:
            return value
        if name == "d_vocab_out" and value == -1:
            return value
        if type(value) is not int:
            raise refuse("is not an integer")
        if not 1 <= value <= _SIZES[name]:
            raise refuse(f"is outside 1..{_SIZES[name]}")
        return value
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise refuse(f"is not one of {', '.join(sorted(map(str, _CHOICES[name])))}")
        return value
    if name in _FLAGS:
        if type(value) is not bool:
            raise refuse("is not true or false")
        return value
    if name == "eps":
        if type(value) not in (int, float) or not (math.isfinite(value) and 0 < value < 1):
            raise refuse("is not a number in (0, 1)")
        return float(value)
    if name in _DEFAULT_ONLY:
        if value != _DEFAULT_ONLY[name]:
            raise refuse(f"is not supported (only {_DEFAULT_ONLY[name]!r})")
        return value
    raise AssertionError(name)


def _model_bytes(kw: dict[str, Any]) -> int:
    d, layers = kw["d_model"], kw["n_layers"]
    heads, d_head, d_mlp = kw["n_heads"], kw["d_head"], kw.get("d_mlp") or 0
    vocab = kw["d_vocab"]
    out = kw.get("d_vocab_out", -1)
    out = vocab if out == -1 else out
    weights = layers * (4 * heads * d_head * d, 2 * d * d_mlp)
    params = sum(weights) + (vocab + out + kw["n_ctx"]) * d
    return 4 * params + layers * kw["n_ctx"] ** 2  # float32 weights, one bool causal mask per layer


def build_config(fields: Any, *, source: str, seed: int | None = None):
    """A ``HookedTransformerConfig`` from a file's ``fields``, and the names it ignored.

    Only the fields above are read, each checked; sizes are bounded before anything is
    allocated; the engine's hooks are switched on; the device is the CPU; the tokenizer
    is never set. ``source`` names the file in every refusal; ``seed`` is TransformerLens's
    (``None`` leaves the global RNG alone).
    """
    from transformer_lens import HookedTransformerConfig

    if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
        raise InterpbenchError(f"{source}: expected a mapping of HookedTransformerConfig fields")
    readable = set(_SIZES) | set(_CHOICES) | _FLAGS | {"eps"} | set(_DEFAULT_ONLY)
    kwargs = {k: _check(k, v, source) for k, v in fields.items() if k in readable}
    missing = [k for k in ("n_layers", "d_model", "d_head", "n_heads", "d_vocab", "n_ctx") if k not in kwargs]
    if missing:
        raise InterpbenchError(f"{source}: missing config fields {', '.join(missing)}")
    if kwargs.get("attn_only"):
        kwargs.pop("d_mlp", None)
    elif kwargs.get("d_mlp") is None or kwargs.get("act_fn") is None:
        raise InterpbenchError(f"{source}: a model with MLPs needs d_mlp and act_fn")
    if (size := _model_bytes(kwargs)) > MAX_MODEL_BYTES:
        raise InterpbenchError(
            f"{source}: n_layers, d_model, ... describe a {size / 2**30:.0f} GiB model (limit {MAX_MODEL_BYTES // 2**30} GiB)"
        )
    kwargs.update({flag: True for flag in HOOK_FLAGS}, device="cpu", seed=seed, tokenizer_name=None)
    try:
        cfg = HookedTransformerConfig(**kwargs)
    except (TypeError, ValueError, AssertionError) as e:
        raise InterpbenchError(f"{source}: not a usable HookedTransformerConfig: {e}") from None
    return cfg, sorted(k for k in fields if k not in readable)


def stored_fields(cfg) -> dict[str, Any]:
    """The fields we write a config with (``build_config`` reads them back)."""
    return {name: getattr(cfg, name) for name in STORED_FIELDS}


def read_regular(path: str | Path, *, limit: int = 64 * 2**20) -> bytes:
    """The bytes of ``path``, refused (one line naming it) unless it is a regular file of at
    most ``limit`` bytes. Opened non-blocking, so a FIFO is refused instead of waited on."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise InterpbenchError(f"cannot read {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InterpbenchError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise InterpbenchError(f"{path}: {info.st_size} bytes, more than the {limit} this file may have")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise InterpbenchError(f"{path}: more than the {limit} bytes this file may have")
    return data


def check_regular(path: str | Path) -> Path:
    """``path`` if it is a regular file (for readers that open it themselves)."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise InterpbenchError(f"cannot read {path}: {e.strerror or e}") from None
    if not stat.S_ISREG(mode):
        raise InterpbenchError(f"{path}: not a regular file")
    return path
