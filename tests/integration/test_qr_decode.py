"""The printable QR codes decode, with a real decoder (zbar), to the touchpoint's short URL, and
that URL leads to the current target."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
from PIL import Image

from marktplatz.bootstrap import App
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import touchpoints
from qr_tools import pdf_to_png, require_tools, zbar
from support import Tenant, login

SVG_NS = "{http://www.w3.org/2000/svg}"
_PATH_COMMAND = re.compile(r"([A-Za-z])([^A-Za-z]*)")


def rasterise_segno_svg(svg: bytes, pixels_per_module: int = 8) -> Image.Image:
    """Draw the served SVG: segno writes one <path> of 1-module-high horizontal strokes
    (M, m and h commands) under transform="scale(n)"."""
    root = ElementTree.fromstring(svg)  # noqa: S314 (our own server's output)
    path = root.find(f"{SVG_NS}path")
    assert path is not None
    scale = re.fullmatch(r"scale\((\d+)\)", path.get("transform", ""))
    assert scale is not None
    modules = int(root.get("width", "0")) // int(scale.group(1))
    grid = Image.new("1", (modules, modules), 1)
    x = y = 0.0
    for command, arguments in _PATH_COMMAND.findall(path.get("d", "")):
        numbers = [float(n) for n in arguments.replace(",", " ").split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command == "h":
            (length,) = numbers
            row = int(y - 0.5)
            for column in range(int(x), int(x + length)):
                grid.putpixel((column, row), 0)
            x += length
        else:
            raise AssertionError(f"unexpected SVG path command {command!r}")
    return grid.resize((modules * pixels_per_module,) * 2, Image.Resampling.NEAREST)


async def make_qr(composed: App, tenant: Tenant, target: str) -> Touchpoint:
    # Through the service: POST /api/v1/cities/{city}/touchpoints refuses every `kind` because
    # of the strict-schema bug (see tests/api/test_api_touchpoints.py).
    return await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {
            "kind": "qr",
            "name": "Plakat Marktplatz",
            "lat": 52.105,
            "lon": 8.75,
            "target": target,
            "shop_id": str(tenant.shop_a.id),
        },
    )


async def test_printed_pdf_decodes_to_the_short_url_that_leads_to_the_target(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, tmp_path: Path
) -> None:
    require_tools("zbarimg", "pdftoppm")
    # given a QR touchpoint and the city admin
    created = await make_qr(composed, tenant, "/stadt/sommerfest")
    csrf = await login(client, tenant.users["city-admin"])
    shown = (await client.get(f"/api/v1/touchpoints/{created.id}")).json()
    short_url = shown["short_url"]
    assert short_url == f"http://testserver/q/{created.code}"

    # when the printable PDF is fetched, rendered and scanned
    response = await client.get(f"/api/v1/touchpoints/{created.id}/qr.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="qr-{created.code}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    pdf = tmp_path / "qr.pdf"
    pdf.write_bytes(response.content)
    decoded = await asyncio.to_thread(lambda: zbar(pdf_to_png(pdf)))

    # then the code holds exactly the short URL
    assert decoded == f"{short_url}\n"

    # and following it leads to the current target, also after the target changes
    path = urlsplit(decoded.strip()).path
    first = await client.get(path)
    via = f"?via={created.code}"  # our own pages learn which code was scanned
    assert (first.status_code, first.headers["location"]) == (307, f"/stadt/sommerfest{via}")
    changed = await client.patch(
        f"/api/v1/touchpoints/{created.id}",
        headers={"x-csrf-token": csrf},
        json={"target": "/stadt/herbst"},
    )
    assert changed.status_code == 200, changed.text
    second = await client.get(path)
    assert (second.status_code, second.headers["location"]) == (307, f"/stadt/herbst{via}")


async def test_served_svg_decodes_to_the_short_url(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, tmp_path: Path
) -> None:
    require_tools("zbarimg")
    # given a QR touchpoint and the city admin
    created = await make_qr(composed, tenant, "https://example.org/angebote")
    await login(client, tenant.users["city-admin"])
    short_url = f"http://testserver/q/{created.code}"

    # when the SVG is fetched, drawn module by module, and scanned; and segno's PNG likewise
    response = await client.get(f"/api/v1/touchpoints/{created.id}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.content)  # noqa: S314 (well-formed, or this raises)
    drawn = tmp_path / "svg.png"
    rasterise_segno_svg(response.content).save(drawn)
    segno_png = tmp_path / "segno.png"
    segno_png.write_bytes(composed.ctx.qr.png(short_url))
    from_svg = await asyncio.to_thread(zbar, drawn)
    from_png = await asyncio.to_thread(zbar, segno_png)

    # then both hold exactly the short URL
    assert root.tag == f"{SVG_NS}svg"
    assert len(root.findall(f"{SVG_NS}path")) == 1
    assert root.findtext(f"{SVG_NS}title") == short_url
    assert from_svg == f"{short_url}\n"
    assert from_png == f"{short_url}\n"
    assert Image.open(io.BytesIO(composed.ctx.qr.png(short_url))).format == "PNG"

    # and the decoded address redirects to the target
    redirect = await client.get(urlsplit(from_svg.strip()).path)
    assert (redirect.status_code, redirect.headers["location"]) == (
        307,
        "https://example.org/angebote",
    )
    assert "set-cookie" not in redirect.headers


async def test_qr_files_need_a_login(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a QR touchpoint
    created = await make_qr(composed, tenant, "/stadt")

    # when an anonymous client asks for its printable files
    svg = await client.get(f"/api/v1/touchpoints/{created.id}/qr.svg")
    pdf = await client.get(f"/api/v1/touchpoints/{created.id}/qr.pdf")

    # then
    assert (svg.status_code, pdf.status_code) == (401, 401)
