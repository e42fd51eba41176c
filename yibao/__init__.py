"""yibao-graph core: settings, errors, administrative divisions, synthetic data and the CLI.

The analysis packages live beside this one, as the design card asks: ``loaders`` (bytes in,
validated tables out), ``graph`` (tables in, graphs, communities, scores out), ``queries``
(Cypher text) and ``dashboards`` (pages that draw).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
