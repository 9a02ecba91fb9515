"""Instrument scoring and lab conversions as plain functions (no Django imports)."""
