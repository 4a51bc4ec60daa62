"""Files: what other tools read and write, and how we read and write files safely.

Scores and circuits in interpbench's own JSON (the ``Scores`` schema), the EAP-IG / MIB
graph JSON (``mib``) and auto-circuit's prune scores (``auto_circuit``), read into and
written from ``Scores`` on one ``ComputationalGraph`` (``files``); model configs built
from an explicit list of fields and bounded reads of regular files only (``model_files``);
writes that no reader ever sees half of (``atomic``); the published InterpBench
layout, read without running anything it names (``interpbench_dir``).
"""
