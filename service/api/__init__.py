"""The HTTP API (FastAPI). Build it with ``create_app(settings)``."""

from service.api.app import create_app

__all__ = ["create_app"]
