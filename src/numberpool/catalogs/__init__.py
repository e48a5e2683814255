"""Catalog files that ship in the package (`demo.toml`: the demo inventory's catalog)."""
