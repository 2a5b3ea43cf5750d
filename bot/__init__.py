"""Vyraj: wiring (settings, factories, runners, CLI, the local sandbox)."""
