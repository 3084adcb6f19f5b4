"""Benchmarks. `python -m bench` runs each one briefly; `python -m bench NAME --help`."""
