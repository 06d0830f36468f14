"""Reproducible benchmarks of consentgate: ``python -m bench`` (see BENCHMARKS.md)."""
