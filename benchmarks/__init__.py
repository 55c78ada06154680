"""Benchmark scripts: each runs alone (`.venv/bin/python benchmarks/NAME.py`) and prints a ratio to its baseline."""
