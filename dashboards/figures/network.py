"""A ring's or a neighbourhood's network as a plotly figure that stays fast at 2,000 nodes.

The layout is igraph's Fruchterman-Reingold (C code, built straight from edge arrays: about
0.2 s at 2,000 nodes where networkx's spring layout takes seconds); all edges go in one trace.
Up to :data:`WEBGL_FROM` nodes the traces are SVG (``Scatter``): a WebGL context costs a browser
without a GPU about 0.8 s of CPU (measured on the 500-member ring page), more than SVG needs for
a thousand markers; bigger graphs are drawn with WebGL (``Scattergl``), which stays about a
second at 2,000 nodes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.maps import FONT

__all__ = ["KIND_COLORS", "WEBGL_FROM", "network_figure", "network_layout", "network_table"]

KIND_COLORS: dict[str, str] = {
    "person": "#1f77b4",
    "institution": "#d62728",
    "practitioner": "#2ca02c",
}

WEBGL_FROM = 1000
"""Graphs with at least this many nodes are drawn with WebGL, smaller ones with SVG."""

Node = tuple[str, str]


def network_layout(graph: nx.Graph, seed: int = 0) -> dict[Node, tuple[float, float]]:
    """Node positions (seeded, deterministic) from igraph's Fruchterman-Reingold layout."""
    nodes = list(graph.nodes)
    if not nodes:
        return {}
    index = {n: i for i, n in enumerate(nodes)}
    edges = [(index[u], index[v]) for u, v in graph.edges]
    weights = [float(np.log1p(d.get("settlements", 1))) for _, _, d in graph.edges(data=True)]
    g = ig.Graph(n=len(nodes), edges=edges)
    random.seed(seed)  # igraph draws its start positions from Python's random module
    layout = g.layout_fruchterman_reingold(weights=weights or None, niter=300, grid="auto")
    return {n: (float(x), float(y)) for n, (x, y) in zip(nodes, layout.coords, strict=True)}


def network_figure(graph: nx.Graph, *, label_of: Callable[[Node, Mapping[str, object]], str],
                   kind_names: Mapping[str, str], height: int = 560,
                   highlight: Node | None = None) -> go.Figure:
    """The graph drawn: nodes coloured by kind and sized by degree, hover labels from
    ``label_of(node, attributes)`` (the caller masks personal data there)."""
    pos = network_layout(graph)
    trace = go.Scattergl if graph.number_of_nodes() >= WEBGL_FROM else go.Scatter
    ex: list[float | None] = []
    ey: list[float | None] = []
    for u, v in graph.edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ex += [x0, x1, None]
        ey += [y0, y1, None]
    fig = go.Figure(trace(x=ex, y=ey, mode="lines", hoverinfo="skip", showlegend=False,
                                 line={"width": 0.6, "color": "rgba(120,120,120,0.45)"}))
    for kind, color in KIND_COLORS.items():
        nodes = [n for n, d in graph.nodes(data=True) if d.get("kind", n[0]) == kind]
        if not nodes:
            continue
        deg = np.array([graph.degree(n) for n in nodes], dtype=float)
        size = 6 + 10 * np.sqrt(deg / max(deg.max(), 1.0))
        if highlight is not None:
            size = np.where([n == highlight for n in nodes], 22.0, size)
        fig.add_trace(trace(
            x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers",
            marker={"size": size, "color": color, "line": {"width": 0.5, "color": "white"}},
            text=[label_of(n, graph.nodes[n]) for n in nodes],
            hovertemplate="%{text}<extra></extra>", name=kind_names.get(kind, kind),
        ))
    fig.update_layout(
        height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0}, font_family=FONT,
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        plot_bgcolor="white", legend={"orientation": "h", "y": 1.02, "x": 0},
    )
    return fig


def network_table(graph: nx.Graph, *, label_of: Callable[[Node, Mapping[str, object]], str]
                  ) -> pd.DataFrame:
    """The nodes of the graph as a table: kind, code, label, degree, settlements, fund."""
    rows = []
    for node, data in graph.nodes(data=True):
        edges = graph.edges(node, data=True)
        rows.append({
            "kind": data.get("kind", node[0]), "code": node[1], "label": label_of(node, data),
            "degree": graph.degree(node),
            "settlements": sum(int(d.get("settlements", 0)) for _, _, d in edges),
            "fund": round(sum(float(d.get("fund", 0.0)) for _, _, d in edges), 2),
        })
    frame = pd.DataFrame(rows, columns=["kind", "code", "label", "degree", "settlements",
                                        "fund"])
    return frame.sort_values(["kind", "fund"], ascending=[True, False], ignore_index=True)
