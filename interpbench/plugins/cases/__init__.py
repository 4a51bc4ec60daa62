"""The built-in case library: every tracr case of InterpBench's catalogue.

Cases are declared in the ``catalogue_*`` modules with ``interpbench.cases.catalogue.case``
and registered here through the same hook a third-party case plugin uses.
"""

from interpbench import hookimpl
from interpbench.cases.catalogue import DECLARED
from interpbench.plugins.cases import (  # noqa: F401  (importing declares the cases)
    catalogue_001_039,
    catalogue_040_089,
    catalogue_090_131,
)


@hookimpl
def register_cases(register):
    for fields in DECLARED:
        register(**fields)
