"""Emails Tandem sends people about their own accounts (not customer conversations)."""
