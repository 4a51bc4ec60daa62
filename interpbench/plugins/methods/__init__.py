"""Built-in discovery methods, registered through the same hook as third-party ones.

The method modules import torch only inside their functions, so registering them
(and listing them) stays instant.
"""

from interpbench import hookimpl
from interpbench.plugins.methods import (
    acdc,
    baselines,
    eap,
    edge_pruning,
    exact,
    ifr,
    node_ablation,
    subnetwork_probing,
)


@hookimpl
def register_methods(register):
    for module in (acdc, eap, exact, ifr, node_ablation, subnetwork_probing, edge_pruning, baselines):
        for spec in module.METHODS:
            register(**spec)
