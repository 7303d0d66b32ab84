"""The inbox views and counts, kept in Redis as the events happen (app/views/store.py)."""
