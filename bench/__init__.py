"""microdemand's benchmark suite: `python -m bench [--full] [--only NAME]` (see docs/benchmarks.md)."""
