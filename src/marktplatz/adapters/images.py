"""Image re-encoding with Pillow: rotate by EXIF, strip all metadata, bound the size."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.shops import ProcessedImage

MAX_EDGE = 2000
_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png", "MPO": "jpg"}


class PillowImages:
    """Decodes untrusted uploads and writes a fresh file, so nothing of the original survives."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels

    def process(self, data: bytes) -> ProcessedImage:
        image = self._open(data)
        extension = _FORMATS[image.format or "PNG"]
        image = ImageOps.exif_transpose(image) or image
        image.thumbnail((MAX_EDGE, MAX_EDGE))
        out = io.BytesIO()
        if extension == "jpg":
            image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        elif extension == "webp":
            image.save(out, "WEBP", quality=85)
        else:
            image.save(out, "PNG", optimize=True)
        return ProcessedImage(out.getvalue(), extension, image.width, image.height)

    def _open(self, data: bytes) -> Image.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                probe = Image.open(io.BytesIO(data))
                fmt = probe.format
                if fmt not in _FORMATS:
                    raise InvalidInput("image", N_("Please upload a JPEG, PNG or WebP picture."))
                if probe.width * probe.height > self.max_pixels:
                    raise InvalidInput("image", N_("The picture has too many pixels."))
                probe.load()
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise InvalidInput("image", N_("This file is not a picture we can read.")) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InvalidInput("image", N_("The picture has too many pixels.")) from exc
        probe.format = fmt
        return probe
