"""Synthetic data and benchmarks: a deterministic generator of realistic customers (``generate``),
fast bulk loaders for SQLite and PostgreSQL (``load``) and the API latency benchmark (``api``).

Used by ``guanxi demo`` (a few thousand customers) and ``guanxi bench`` (up to millions)."""
