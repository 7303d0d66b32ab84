"""Knowledge-base lookups: sentence-embedding models run in process, and keyword ranking."""
