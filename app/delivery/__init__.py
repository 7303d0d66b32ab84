"""Sending replies out through the customers' channels' providers (the worker's jobs)."""
