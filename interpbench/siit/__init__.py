"""Strict Interchange Intervention Training (SIIT): LL models with a known circuit.

- ``config``: ``SIITConfig`` and ``ll_config(hl_cfg, case)``;
- ``correspondence``: HL node -> LL node, and the LL ground-truth circuit;
- ``train``: ``train(case, config, out_dir, progress=..., resume=...)``;
- ``evaluate``: accuracy, IIA, strict accuracy and the node-effects table;
- ``store``: trained directories on disk, ``load_trained(case, directory)``.

Imports are lazy so that ``import interpbench.siit`` stays cheap.
"""

from __future__ import annotations

__all__ = ["SIITConfig", "ll_config", "train", "evaluate", "load_trained"]


def __getattr__(name: str):
    if name in ("SIITConfig", "ll_config"):
        from interpbench.siit import config

        return getattr(config, name)
    if name == "train":
        from interpbench.siit.train import train

        return train
    if name == "evaluate":
        from interpbench.siit.evaluate import evaluate

        return evaluate
    if name == "load_trained":
        from interpbench.siit.store import load_trained

        return load_trained
    raise AttributeError(name)
