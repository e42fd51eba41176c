"""Placeholder page (being built)."""

import streamlit as st

st.title("异地就医")
