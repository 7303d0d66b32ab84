"""Keyword search over a workspace's tickets and contacts, kept in Redis."""
