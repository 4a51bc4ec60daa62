"""Pictures people would rather look at than read: circuits as layered graphs."""

from __future__ import annotations

from pathlib import Path

from interpbench.schemas import Circuit


def _layer(node: str) -> float:
    """Vertical position: embeddings at the bottom, the output on top, q/k/v inputs just
    below their head and MLP inputs just below their MLP."""
    if node.startswith("hook_") or node == "blocks.0.hook_resid_pre":
        return -1.0
    layer = int(node.split(".")[1])  # blocks.L....
    if node.endswith("hook_resid_post"):
        return layer + 1.0
    offset = (
        0.0
        if "attn.hook_result" in node
        else 0.5
        if "hook_mlp_out" in node
        else 0.25
        if "hook_mlp_in" in node
        else -0.25
    )
    return layer + offset


def draw_circuit(circuit: Circuit, path: str | Path, title: str = "") -> Path:
    """Write the circuit as a PNG (or any format matplotlib knows from the suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_edges_from(e.key() for e in circuit.edges)
    rows: dict[float, list[str]] = {}
    for node in sorted(graph):
        rows.setdefault(_layer(node), []).append(node)
    pos = {n: (i - (len(row) - 1) / 2, y) for y, row in rows.items() for i, n in enumerate(row)}
    width = max(6.0, 2.6 * max((len(r) for r in rows.values()), default=1))
    fig, ax = plt.subplots(figsize=(width, 1.6 * (len(rows) + 1)))
    colours = ["#9ecae1" if "attn" in n or "_input[" in n else "#fdae6b" if "mlp" in n else "#d9d9d9" for n in graph]
    nx.draw_networkx(
        graph,
        pos,
        ax=ax,
        node_color=colours,
        node_size=2400,
        font_size=7,
        arrowsize=14,
        labels={n: n.replace("blocks.", "").replace(".hook_", "\n").replace("attn.", "") for n in graph},
    )
    import textwrap

    ax.set_title(
        textwrap.fill(title, 70)
        if title
        else f"{circuit.level}-level circuit: {len(circuit.nodes)} nodes, {len(circuit.edges)} edges"
    )
    ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
