"""Tandem at 1k, 10k and 100k tickets in one workspace: `python -m bench.scale.run`."""
