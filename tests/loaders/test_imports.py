"""Layout: the loaders (bytes in, validated tables out) never pull in the dashboards' stack."""

from __future__ import annotations

import subprocess
import sys


def test_loading_imports_no_ui_or_plotting_library() -> None:
    code = (
        "import sys; import loaders.load, loaders.store, loaders.sources; "
        "print(sorted(m for m in ('streamlit', 'plotly', 'matplotlib', 'igraph', 'neo4j') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"
