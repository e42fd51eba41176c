"""The Streamlit workbench: pages that only draw and call package functions."""
