"""Local FerretDB and Redis for development and tests, started as child processes."""

from app.devservices.errors import MissingTool
from app.devservices.services import LocalServices, local_services

__all__ = ["LocalServices", "MissingTool", "local_services"]
