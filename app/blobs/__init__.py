"""Attachment bytes, kept apart from the documents that mention them (app/blobs/store.py)."""

from app.blobs.store import BlobInfo, BlobNotFound, BlobStore

__all__ = ["BlobInfo", "BlobNotFound", "BlobStore"]
