"""Loaders: bytes in, validated tables out (CSV, Excel, Parquet exports of the national platform)."""
