"""The comparison engine (数据比对): pure Python + DuckDB/Splink, no Django."""
