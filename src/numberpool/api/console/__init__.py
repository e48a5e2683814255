"""The admin console at /_numberpool/admin/: server-rendered pages over the admin API (app.py)."""
