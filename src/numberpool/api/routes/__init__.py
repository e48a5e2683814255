"""Handlers, one module per group of ACS operations."""
