"""API documentation rendered on our own server from the OpenAPI schema (no CDN)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from marktplatz.web.pages import render

router = APIRouter(include_in_schema=False)


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tag": (op.get("tags") or ["other"])[0],
                    "parameters": [prm.get("name") for prm in op.get("parameters", [])],
                    "body": bool(op.get("requestBody")),
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return sorted(rows, key=lambda r: (r["tag"], r["path"], r["method"]))


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """A readable reference of every API operation, with a link to the OpenAPI JSON."""
    schema = request.app.openapi()
    return render(
        request, "api_docs.html", operations=_operations(schema), info=schema.get("info", {})
    )
