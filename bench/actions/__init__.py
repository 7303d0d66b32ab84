"""Per-action cost probe: the store commands, Redis commands, document locks and events one
user action costs, counted on the real services.

Run it with `.venv/bin/python -m bench.actions.run`; the counting itself is in spy.py, which a
test can reuse.
"""
