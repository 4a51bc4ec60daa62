"""Build fake installed distributions on disk: a dist-info folder plus a module."""

from __future__ import annotations

import textwrap
from pathlib import Path


def make_distribution(root: Path, dist: str, module: str, source: str) -> Path:
    """A distribution named ``dist`` whose ``interpbench`` entry point is ``module``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[interpbench]\n{module} = {module}\n")
    return root


BROKEN_IMPORT = """
import this_module_does_not_exist
"""

INVALID_METHOD = """
from interpbench import hookimpl

@hookimpl
def register_methods(register):
    register(name="bad method!", description="", level="sideways", config=int, run=None)
"""

DUPLICATE_METHOD = """
from pydantic import BaseModel
from interpbench import hookimpl

class Config(BaseModel):
    model_config = {"extra": "forbid"}

@hookimpl
def register_methods(register):
    register(name="acdc", description="An impostor.", level="edge", config=Config, run=lambda task, cfg: {})
"""

MISNAMED_ARGUMENT = """
from interpbench import hookimpl

@hookimpl
def register_methods(reg):
    reg(name="never")
"""

MISSPELT_HOOK = """
from interpbench import hookimpl

@hookimpl
def register_method(register):
    register(name="never")
"""

LENIENT_CONFIG = """
from pydantic import BaseModel
from interpbench import hookimpl

class Config(BaseModel):
    steps: int = 1

@hookimpl
def register_methods(register):
    register(name="lenient", description="Accepts any key.", level="edge", config=Config, run=lambda task, cfg: {})
"""

NOISY_AND_EXITING = """
import sys
print("hello from a plugin")
sys.exit(3)
"""

INTERRUPTING = """
raise KeyboardInterrupt
"""

RAISING_HOOK = """
from interpbench import hookimpl

@hookimpl
def register_methods(register):
    raise RuntimeError("the hook itself fails")
"""

NOISY_HOOK = """
from pydantic import BaseModel
from interpbench import hookimpl

class Config(BaseModel):
    model_config = {"extra": "forbid"}

@hookimpl
def register_methods(register):
    print("registering!")
    register(name="noisy", description="Prints.", level="edge", config=Config, run=lambda task, cfg: {})
"""

SWEEP_HAZARDS = """
import os
import signal
import sys
import time

from pydantic import BaseModel
from interpbench import hookimpl


class Config(BaseModel):
    model_config = {"extra": "forbid"}


def dies(task, config):
    os.kill(os.getpid(), signal.SIGKILL)


def hangs(task, config):
    time.sleep(3600)


def exits(task, config):
    sys.exit(0)


def interrupts(task, config):
    raise KeyboardInterrupt  # a bug in the method, not the user's Ctrl-C


@hookimpl
def register_methods(register):
    for run in (dies, hangs, exits, interrupts):
        register(name=run.__name__, description="A hazard for sweeps.", level="edge", config=Config, run=run)
"""
