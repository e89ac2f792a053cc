"""Files hnce writes into a folder, named from what strangers typed.

A registrant's name and an attachment's file name end up as file names on a reviewer's
disk (exported attachments) and on a certificate share (a batch's PDFs). So a name is
made safe once, here, for every such file: no control or invisible characters, no
path parts, nothing Windows or an SMB share refuses, at most 255 bytes (UTF-8) with its
extension kept. And a file is written without following a symbolic link someone
planted in the folder: created exclusively (`O_EXCL`, which never follows a link), or
written to such a temporary file and renamed over the name (the rename replaces a
planted link itself instead of writing through it).

Standard library only: a remote print writes its PDF through this without loading the
PDF engine.
"""

from __future__ import annotations

import contextlib
import os
import stat
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from hnce_cli.text import first_hidden

MAX_NAME_BYTES = 255  # one path component on ext4, XFS, APFS, NTFS (in UTF-16 units; bytes are stricter)
# What Windows (and so an SMB share) refuses in a name; '/' and '\\' are also path separators.
WINDOWS_REFUSED = frozenset('<>:"/\\|?*')
# Device names Windows will not give to a file, whatever the extension.
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                       *(f"LPT{i}" for i in range(1, 10))})
_MAX_EXTENSION_BYTES = 16  # longer is not an extension worth keeping over the name itself
_TEMP_NAME_BYTES = 200  # a temporary file's copy of the name, so its own name stays under 255 bytes
_CREATE = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
           | getattr(os, "O_CLOEXEC", 0))
_MAX_NUMBERED = 10_000


def is_invisible(char: str) -> bool:
    """A character that is not shown as itself (the text policy's list, hnce_cli.text)."""
    return first_hidden(char) is not None


def _cut(text: str, limit: int) -> str:
    """The longest start of `text` whose UTF-8 is at most `limit` bytes (whole characters)."""
    if len(text.encode("utf-8")) <= limit:
        return text
    out, used = [], 0
    for char in text:
        size = len(char.encode("utf-8"))
        if used + size > limit:
            break
        out.append(char)
        used += size
    return "".join(out)


def _split(name: str) -> tuple[str, str]:
    """(stem, extension); an extension is short and plain, else it is part of the stem."""
    stem, ext = os.path.splitext(name)
    if not stem or len(ext.encode("utf-8")) > _MAX_EXTENSION_BYTES or " " in ext:
        return name, ""
    return stem, ext


def _fit(stem: str, tail: str) -> str:
    """stem + tail within MAX_NAME_BYTES, the stem cut (never the tail: the extension opens the file)."""
    stem = _cut(stem, MAX_NAME_BYTES - len(tail.encode("utf-8"))).rstrip(" .")
    return (stem or "_") + tail


def safe_name(name: str, fallback: str = "_") -> str:
    """`name` as one file name any disk accepts, as close to it as that allows.

    Control and invisible characters and what Windows refuses become `_` (a name with a
    bidi override shows what it hid, a path becomes one name); leading dots (hidden
    files, `..`) and trailing dots and spaces (Windows drops them) go; a Windows device
    name gets `_` in front; the result is cut to 255 bytes of UTF-8 keeping the
    extension. An empty result is `fallback`.
    """
    text = unicodedata.normalize("NFC", name)
    text = "".join("_" if (c in WINDOWS_REFUSED or is_invisible(c)) else c for c in text)
    text = text.strip().lstrip(".").rstrip(" .").strip()
    if not text:
        text = fallback
    if text.split(".", 1)[0].strip().upper() in _RESERVED:
        text = "_" + text
    stem, ext = _split(text)
    return _fit(stem, ext)


def suffixed(name: str, extra: str) -> str:
    """`name` with `extra` before its extension, still within 255 bytes (the stem is cut)."""
    stem, ext = _split(name)
    return _fit(stem, f"{extra}{ext}")


def numbered(name: str, n: int) -> str:
    """The n-th name for a file whose name is taken: `name (n).ext`."""
    return suffixed(name, f" ({n})")


def _holds(path: Path, content: bytes) -> bool:
    """Whether `path` is a regular file (not a link) holding exactly `content`."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return False
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(content):
            return False
        return fh.read(len(content) + 1) == content


def write_new(folder: Path, name: str, content: bytes) -> Path:
    """Write `content` as a new file in `folder` under `name` (made safe), never over anything.

    A name that is taken — by another file, a folder, or a planted symbolic link, which
    exclusive creation never follows — gets ` (2)`, ` (3)`, …; a regular file that
    already holds the same bytes (an export run again) is reused as it is.
    """
    base = safe_name(name)
    for n in range(1, _MAX_NUMBERED):
        path = folder / (base if n == 1 else numbered(base, n))
        try:
            fd = os.open(path, _CREATE, 0o666)
        except FileExistsError:
            if _holds(path, content):
                return path
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        except BaseException:
            path.unlink(missing_ok=True)  # no half-written file under a name that looks whole
            raise
        return path
    raise FileExistsError(f"{folder / base}：同名文件过多 (too many files of this name); "
                          "请换一个空文件夹 (use an empty folder)")


def temp_prefix(name: str) -> str:
    """How the temporary files of `name` begin (`write_replacing`; a killed run leaves them)."""
    return f".{_cut(name, _TEMP_NAME_BYTES)}."


def write_replacing(path: str | Path, content: bytes) -> Path:
    """Write bytes so that `path` is either as it was or complete, and never written through a link.

    The bytes go to a temporary file in the same folder, created exclusively (so a name
    planted there is never followed), flushed to disk, then renamed over `path`: the
    rename replaces whatever `path` was — a planted symbolic link included — and leaves
    what that link pointed at untouched.
    """
    import secrets

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = temp_prefix(path.name)
    while True:
        tmp = path.with_name(f"{prefix}{os.getpid()}-{secrets.token_hex(4)}.part")
        try:
            fd = os.open(tmp, _CREATE, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def remove_stale_parts(path: Path) -> None:
    """Delete the temporary files a killed run left for `path` (`write_replacing`'s .NAME.….part)."""
    if not path.parent.is_dir():
        return
    prefix = temp_prefix(path.name)
    for entry in os.scandir(path.parent):  # not glob: a name may hold glob's own characters
        if entry.name.startswith(prefix) and entry.name.endswith(".part"):
            Path(entry.path).unlink(missing_ok=True)


def is_regular_file(path: Path) -> bool:
    """A regular file at `path` itself (a symbolic link there is not one, whatever it points at)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def real_folders(root: Path, parts: Sequence[str]) -> Path:
    """The sub-folders `parts` under `root`, created as needed; one that exists as a symbolic
    link or as a file is refused, so nothing is written where a planted link points."""
    here = root
    for part in parts:
        here = here / part
        with contextlib.suppress(FileExistsError):
            os.mkdir(here)
        if not stat.S_ISDIR(os.lstat(here).st_mode):
            raise NotADirectoryError(
                f"{here} 不是文件夹（是文件或符号链接），未写入 (not a real folder; a symbolic link is never "
                "followed): 移走它后重新运行 (move it away and run again)")
    return here
