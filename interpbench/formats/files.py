"""Reading and writing a file of scores, in any of the formats, with one clear line for a bad file."""

from __future__ import annotations

import io
import json
import pickle
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from interpbench.errors import InterpbenchError
from interpbench.formats.atomic import write_atomic
from interpbench.formats.auto_circuit import (
    SELECTED,
    AutoCircuitScores,
    read_prune_scores,
    write_prune_scores,
)
from interpbench.formats.mib import MIBGraph, read_mib, write_mib
from interpbench.formats.model_files import read_regular
from interpbench.graph import ComputationalGraph, position_of
from interpbench.schemas import Scores, validation_summary

ScoresFormat = Literal["interpbench", "mib", "auto-circuit"]
MAX_SCORES_BYTES = 512 * 2**20


def _container(data: bytes) -> str | None:
    """``safetensors`` or ``torch.save`` when the bytes start as one of them; ``None`` otherwise
    (JSON text can start as neither)."""
    if data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")):
        return "torch.save"  # a zip archive, or the legacy format's pickle
    if data[8:9] == b"{" and int.from_bytes(data[:8], "little") < 100 * 2**20:
        return "safetensors"  # an 8-byte header length (text has no zero high bytes), then its JSON header
    return None


def _refusal(e: Exception) -> str:
    """The line of torch's weights_only refusal that names what it refused."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    named = [line for line in lines if "GLOBAL" in line or "nsupported" in line]
    return (named or lines or [type(e).__name__])[0].split(". ")[0]


def _torch_load(data: bytes, path: str | Path) -> tuple[dict[str, Any], list[str] | None]:
    import torch

    try:  # weights_only: tensors and plain containers only, no code from the file runs
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise InterpbenchError(
            f"refused to load {path}: it holds objects other than tensors (torch.load weights_only=True: {_refusal(e)})"
        ) from None
    except Exception as e:  # a damaged archive fails in many ways inside torch
        raise InterpbenchError(f"{path}: not a readable torch.save file ({_refusal(e)})") from None
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise InterpbenchError(f"{path}: expected a dict of destination module names to tensors (PruneScores)")
    selected = obj.pop(SELECTED, None)
    if selected is not None and not (isinstance(selected, list) and all(isinstance(n, str) for n in selected)):
        raise InterpbenchError(f"{path}: '{SELECTED}' is not a list of auto-circuit edge names")
    return _tensors_to_lists(obj, path), selected


def _safetensors_load(data: bytes, path: str | Path) -> tuple[dict[str, Any], list[str] | None]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        tensors = load(data)
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    except (SafetensorError, ValueError) as e:
        raise InterpbenchError(f"{path}: not a readable safetensors file ({e})") from None
    selected = (header.get("__metadata__") or {}).get(SELECTED)
    if selected is not None:
        try:
            selected = json.loads(selected)
        except ValueError:
            selected = None  # refused just below
        if not (isinstance(selected, list) and all(isinstance(n, str) for n in selected)):
            raise InterpbenchError(f"{path}: metadata '{SELECTED}' is not a JSON list of auto-circuit edge names")
    return _tensors_to_lists(tensors, path), selected


def _tensors_to_lists(tensors: dict[str, Any], path: str | Path) -> dict[str, Any]:
    import torch

    values = {}
    for name, tensor in tensors.items():
        if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided or tensor.is_complex():
            raise InterpbenchError(f"{path}: {name!r} is not a dense real tensor")
        values[name] = tensor.detach().to(torch.float64).tolist()  # bool circuits and half precision too
    return values


def _json_format(data: Any) -> str:
    """Which JSON format ``data`` is: a MIB graph has ``cfg`` and ``edges``, prune scores
    destination module names; anything else is read as interpbench's ``Scores``."""
    if isinstance(data, dict) and {"cfg", "edges"} <= set(data):
        return "mib"
    if isinstance(data, dict) and any(str(k).startswith("blocks.") for k in data):
        return "auto-circuit"
    return "interpbench"


def _has_positions(fmt: str, graph: ComputationalGraph) -> None:
    """Only interpbench's JSON scores edges per token position."""
    if graph.positions:
        raise InterpbenchError(f"{fmt} scores have no token positions: score --positions files in interpbench's JSON")


def read_scores(path: str | Path, graph: ComputationalGraph, fmt: str = "auto") -> Scores:
    """The ``Scores`` in a file: interpbench's ``Scores`` JSON, a MIB graph, or auto-circuit
    prune scores (a safetensors or ``torch.save`` file, or their JSON). ``auto`` tells them
    apart by their content."""
    raw = read_regular(path, limit=MAX_SCORES_BYTES)
    container = _container(raw)
    if container is not None and fmt not in ("auto", "auto-circuit"):
        raise InterpbenchError(f"{path}: a {container} file, not {fmt} JSON")
    try:
        if container is not None:
            _has_positions("auto-circuit", graph)
        if container == "torch.save":
            return read_prune_scores(*_torch_load(raw, path), graph)
        if container == "safetensors":
            return read_prune_scores(*_safetensors_load(raw, path), graph)
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            also = ", a safetensors or a torch.save file" if fmt in ("auto", "auto-circuit") else ""
            raise InterpbenchError(f"{path}: not JSON{also} ({e})") from None
        if fmt == "auto":
            fmt = _json_format(data)
        if fmt != "interpbench":
            _has_positions(fmt, graph)
        if fmt == "mib":
            return read_mib(MIBGraph.model_validate(data), graph)
        if fmt == "auto-circuit":
            prune = AutoCircuitScores.model_validate(data)
            return read_prune_scores(prune.model_extra or {}, prune.selected, graph)
        return Scores.model_validate(data)
    except ValidationError as e:
        raise InterpbenchError(f"{path}: not a valid {fmt} scores file: {validation_summary(e)}") from None
    except InterpbenchError as e:
        message = str(e)
        raise InterpbenchError(message if str(path) in message else f"{path}: {message}") from None


def graph_of(scores: Scores) -> ComputationalGraph:
    """The graph that edge ``scores`` of every edge cover (layers, heads, MLPs read off the names)."""
    names = [n for e in scores.edges for n in (e.sender, e.receiver)]
    if any(position_of(n)[1] is not None for n in names):
        raise InterpbenchError("these scores are per token position, which only interpbench's Scores JSON holds")
    layers = [int(m[1]) for n in names if (m := re.match(r"^blocks\.(\d+)\.", n))]
    heads = [int(m[1]) for n in names if (m := re.search(r"\[(\d+)\]$", n))]
    graph = ComputationalGraph(max(layers) + 1, max(heads) + 1, has_mlps=any(n.endswith("hook_mlp_out") for n in names))
    if {(e.sender, e.receiver) for e in scores.edges} != set(graph.edges):
        raise InterpbenchError("these scores do not cover one model's whole graph: cannot export them")
    return graph


def _write_prune_scores(scores: Scores, path: Path, cfg: dict[str, Any]) -> Path:
    """auto-circuit prune scores: JSON when ``path`` ends in ``.json``, safetensors otherwise
    (float64, so that reading them back gives the same numbers)."""
    values, selected = write_prune_scores(scores, graph_of(scores))
    if path.suffix == ".json":
        text = AutoCircuitScores(**values, selected=selected).model_dump_json(exclude_none=True) + "\n"
        return write_atomic(path, lambda p: p.write_text(text))
    import numpy as np
    from safetensors.numpy import save

    metadata = {str(k): str(v) for k, v in cfg.items()}
    if selected is not None:
        metadata[SELECTED] = json.dumps(selected)
    data = save({name: np.asarray(v, dtype=np.float64) for name, v in values.items()}, metadata=metadata)
    return write_atomic(path, lambda p: p.write_bytes(data))


def write_scores(scores: Scores, path: str | Path, fmt: ScoresFormat, cfg: dict[str, Any] | None = None) -> Path:
    """Write ``scores`` as interpbench's ``Scores`` JSON, a MIB graph or auto-circuit prune
    scores, atomically."""
    if fmt == "auto-circuit":
        return _write_prune_scores(scores, Path(path), cfg or {})
    model = write_mib(scores, graph_of(scores), cfg or {}) if fmt == "mib" else scores
    text = model.model_dump_json(indent=1, exclude_none=fmt == "mib") + "\n"
    return write_atomic(path, lambda p: p.write_text(text))
