"""Process wiring: configuration, TLS, the ASGI server and background sweeps."""
