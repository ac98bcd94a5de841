"""Access to the composed application from a request."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import Scope

from marktplatz.bootstrap import App


def app_of(request: HTTPConnection) -> App:
    app: App = request.app.state.marktplatz
    return app


def app_of_scope(scope: Scope) -> App:
    """The same for the raw ASGI hot paths, which build no Request."""
    app: App = scope["app"].state.marktplatz
    return app
