"""Certificate files on disk: writing one atomically, and reading back which certificates a
file holds. Standard library only, so a remote print (whose PDF the server draws) writes its
bytes without loading the PDF engine, and a batch re-run checks 100,000 files without it.

A certificate's PDF carries its verification codes — one per page — in the document's
/Keywords (`pdf._new_document`). A re-run reads them back from the file itself, so the
folder is judged by what the papers say, not by what a manifest (maybe deleted, maybe from
another folder) claims: a file whose certificate was re-issued since is rewritten, and a
revoked one is moved aside. The file's name and how it is written safely are
`hnce_cli.filenames`' (one way for every file hnce writes into a folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from hnce_cli.filenames import write_replacing

# What a verification code looks like (`signing.format_code`): the certificate number, then the tag.
_CODE = re.compile(r"HN\d{4}-\d{8}(?:-[0-9A-Z]{4}){4}")
_TRAILER = re.compile(rb"/Info\s+(\d+)\s+(\d+)\s+R")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"xref\s*?(?:\r\n|\r|\n)(\d+)\s+(\d+)\s*?(?:\r\n|\r|\n)")
_KEYWORDS = re.compile(rb"/Keywords\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>)", re.S)
_TAIL = 8192  # a one-page certificate's information dictionary, cross-reference table and trailer fit
# An Info dictionary larger than this is not one hnce wrote (a unit's merged file of 10,000 pages
# holds 370 kB of codes).
_MAX_INFO = 8 << 20


def write_atomic(path: str | Path, content: bytes) -> Path:
    """Write bytes so that `path` is either absent or complete (temp file created exclusively,
    fsync, rename over the name: a symbolic link planted there is replaced, never written through)."""
    return write_replacing(path, content)


def keywords_of(codes: list[str] | tuple[str, ...]) -> str:
    """The /Keywords a certificate file carries: its pages' verification codes, in page order."""
    return " ".join(codes)


def number_of(code: str) -> str:
    """The certificate number a verification code begins with (HN2025-00000123)."""
    return code[:15]


def read_codes(path: str | Path) -> tuple[str, ...] | None:
    """The verification codes a certificate PDF says it carries (page order), or None when the
    file is not one hnce wrote — another program's PDF, one edited and saved again, a file cut
    short, or one written before hnce recorded codes in its files: what it holds is then unknown.

    Whatever the file's size, it reads the trailer at the end (where the document information
    dictionary is named), that object's entry in the cross-reference table, and the dictionary;
    for one person's certificate all three are in the last few kilobytes: one read.
    """
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            base = max(0, size - _TAIL)
            fh.seek(base)
            tail = fh.read(_TAIL)

            def at(offset: int, length: int) -> bytes:
                if offset >= base and offset + length <= size:
                    return tail[offset - base: offset - base + length]
                fh.seek(offset)
                return fh.read(length)

            last = tail[-1024:]
            end, info = _STARTXREF.search(last), _TRAILER.search(last)
            if end is None or info is None or b"/Prev" in last:  # saved again by another program
                return None
            xref, wanted = int(end[1]), int(info[1])
            head = at(xref, 64)
            section = _SUBSECTION.match(head)
            if section is None:
                return None
            first, count = int(section[1]), int(section[2])
            if not first <= wanted < first + count:
                return None
            entry = at(xref + section.end() + 20 * (wanted - first), 20)  # entries are 20 bytes each
            if len(entry) != 20 or entry[17:18] != b"n":
                return None
            start = int(entry[:10])
            body = tail[start - base: xref - base] if base <= start < xref else b""
            if b"endobj" not in body:
                fh.seek(start)
                body = b""
                while b"endobj" not in body:
                    chunk = fh.read(64 << 10)
                    if not chunk or len(body) > _MAX_INFO:
                        return None
                    body += chunk
    except (OSError, ValueError):
        return None
    body = body[: body.index(b"endobj")]
    if not body.lstrip().startswith(b"%d %d obj" % (wanted, int(info[2]))):
        return None
    found = _KEYWORDS.search(body)
    if found is None:
        return None
    text = _pdf_string(found[1])
    codes = tuple(text.split())
    if not codes or not all(_CODE.fullmatch(c) for c in codes):
        return None
    return codes


def _pdf_string(raw: bytes) -> str:
    """A PDF text string's value: a literal (…) with its escapes, or <hex> (UTF-16 with a BOM)."""
    if raw.startswith(b"<"):
        data = bytes.fromhex(raw[1:-1].decode("ascii"))
        return data[2:].decode("utf-16-be", "replace") if data.startswith(b"\xfe\xff") else data.decode("latin-1")
    return re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode("latin-1")


def stamp(st: os.stat_result) -> list[int]:
    """What says a file is the very one a previous run wrote or read: its size, modification time,
    inode and change time (a copy restored over it, even with its old times, changes the last)."""
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
