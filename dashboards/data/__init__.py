"""What the workbench shows, read from the store as DataFrames (no Streamlit, no plotly)."""
