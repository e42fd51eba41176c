"""Plotly figures for the workbench (no Streamlit): maps that need no tiles, charts, networks."""
