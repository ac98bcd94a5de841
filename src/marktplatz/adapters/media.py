"""Storage of uploaded media files on the local file system."""

from __future__ import annotations

import os
import re
from pathlib import Path

_SAFE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")


class LocalMedia:
    """Writes server-named files below one directory; other names are refused."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if not _SAFE.match(name):
            raise ValueError("unsafe media name")
        return self.root / name

    def save(self, name: str, data: bytes) -> None:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def read(self, name: str) -> bytes | None:
        try:
            return self.path(name).read_bytes()
        except (ValueError, FileNotFoundError):
            return None
