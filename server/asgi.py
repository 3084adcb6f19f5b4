"""The ASGI application for uvicorn and other servers: `server.asgi:app`."""

from server.app import create_app

app = create_app()
