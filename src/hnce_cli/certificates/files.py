"""Writing a certificate file atomically: standard library only, so a remote print (whose PDF
the server draws) writes its bytes without loading the PDF engine."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: str | Path, content: bytes) -> Path:
    """Write bytes so that `path` is either absent or complete (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
