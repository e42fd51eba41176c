"""Loaders: bytes in, validated tables out (CSV, Excel and Parquet exports of the platform)."""
