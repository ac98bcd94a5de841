"""The ASGI application object for uvicorn, configured from the environment."""

from marktplatz.web.app import create_app

app = create_app()
