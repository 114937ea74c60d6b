"""Entry point for ASGI servers: ``uvicorn app.main:create_app --factory``."""

from app.factory import create_app

__all__ = ["create_app"]
