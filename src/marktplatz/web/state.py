"""Access to the composed application from a request."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from marktplatz.bootstrap import App


def app_of(request: HTTPConnection) -> App:
    app: App = request.app.state.marktplatz
    return app
