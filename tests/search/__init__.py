"""Tests of the Redis keyword search index."""
