"""The built-in case library: every tracr case of InterpBench's catalogue.

Cases are declared with ``interpbench.cases.catalogue.case``, one module per kind of
program (docs/cases.md lists them), and registered here through the same hook a
third-party case plugin uses.
"""

from interpbench import hookimpl
from interpbench.cases.catalogue import DECLARED
from interpbench.plugins.cases import (  # noqa: F401  (importing declares the cases)
    arithmetic,
    broadcasts,
    counting,
    neighbours,
    permutations,
    positions,
    sequence_checks,
    sorting,
    words,
)


@hookimpl
def register_cases(register):
    for fields in DECLARED:
        register(**fields)
