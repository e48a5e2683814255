"""Testing with numberpool: a server per test session, reset per test (`NumberpoolServer`, the pytest plugin).

Only the standard library is imported here: the pytest plugin loads this package into every
pytest run once numberpool is installed, and must cost nothing unless its fixtures are used.
"""

from numberpool.testing.server import NumberpoolError, NumberpoolServer

__all__ = ["NumberpoolError", "NumberpoolServer"]
