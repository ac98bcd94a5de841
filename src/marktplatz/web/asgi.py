"""The ASGI application object for uvicorn, configured from the environment."""

import gc

from marktplatz.web.app import create_app

app = create_app()
# Everything built so far lives as long as the server: keep it out of the collector's scans, and
# collect less often, so a request is not held up by a full pass over thousands of old objects.
gc.freeze()
gc.set_threshold(50_000, 50, 100)
