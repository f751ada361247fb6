"""Benchmarks: `python -m benchmarks NAME [--quick]`, each printing a table and a JSON line."""
