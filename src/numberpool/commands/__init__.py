"""Operator commands beyond `serve`: each module adds its sub-commands to the `numberpool` parser
(`register`) and runs them (`run`), keeping `cli.py` to wiring."""
