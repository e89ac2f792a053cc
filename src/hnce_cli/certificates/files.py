"""Writing a certificate file atomically: standard library only, so a remote print (whose PDF
the server draws) writes its bytes without loading the PDF engine. The file's name and how it
is written safely are `hnce_cli.filenames`' (one way for every file hnce writes into a folder)."""

from __future__ import annotations

from pathlib import Path

from hnce_cli.filenames import write_replacing


def write_atomic(path: str | Path, content: bytes) -> Path:
    """Write bytes so that `path` is either absent or complete (temp file created exclusively,
    fsync, rename over the name: a symbolic link planted there is replaced, never written through)."""
    return write_replacing(path, content)
