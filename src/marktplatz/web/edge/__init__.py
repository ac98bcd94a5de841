"""Hot paths: lean Starlette routes without FastAPI's per-request dependency graph."""
