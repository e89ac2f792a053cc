"""`hnce --help` without importing typer: the root help text, generated from the typer
app and kept in `_root_help.py`, printed when it is still current.

Importing typer (and building every command to list them) costs more than the
150 ms `hnce --help` may take. The generated text carries a key: a checksum of
cli.py and commands/*.py. When the sources change (a command added or its help
edited), the key no longer matches and `hnce --help` falls back to typer, so the
help is never stale. That run also saves typer's text, under the new key and its
width, in the user's cache folder, so only the first `hnce --help` after a change
(or at a new terminal width) is slow. To ship the text with the package again:

    python -m hnce_cli.fasthelp          # rewrites src/hnce_cli/_root_help.py

tests/test_help.py fails while that text is out of date, and compares it with
typer's own output. Only the console script `hnce` takes this path (`python -m
hnce_cli --help` shows another program name).
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "_root_help.py"
# Terminal columns -> help width as click computes it: min(columns, 100) - 2, at least 50.
COLUMNS = (80, 120)
MAX_CONTENT_WIDTH = 100


def sources_key() -> str:
    """Checksum of every file that shapes the root help (about 1 ms)."""
    crc = 0
    files = [HERE / "cli.py", *sorted((HERE / "commands").glob("*.py"))]
    for path in files:
        crc = zlib.crc32(path.name.encode() + b"\0" + path.read_bytes(), crc)
    return f"{crc:08x}"


def help_width() -> int:
    """The width click would wrap the help at (shutil.get_terminal_size, without shutil)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return max(min(columns, MAX_CONTENT_WIDTH) - 2, 50)


def applies() -> bool:
    """Only for the `hnce` console script, where typer names the program `hnce`."""
    if os.environ.get("HNCE_NO_FAST_HELP"):
        return False
    main = sys.modules.get("__main__")
    return not getattr(main, "__package__", None) and os.path.basename(sys.argv[0]) == "hnce"


def cache_file(key: str, width: int) -> Path:
    """Where typer's text for these sources and this width is remembered."""
    base = os.environ.get("HNCE_DATA_DIR")
    if base:
        folder = Path(base) / "cache"
    else:
        from platformdirs import user_cache_dir

        folder = Path(user_cache_dir("hnce", appauthor=False))
    return folder / f"root-help-{key}-{width}.txt"


def answer(arg: str) -> bool:
    """Print the root help (or the version) if that can be done without typer."""
    if arg == "--version" and not os.environ.get("HNCE_NO_FAST_HELP"):
        from hnce_cli import __version__

        sys.stdout.write(f"hnce {__version__}\n")
        return True
    if not applies():
        return False
    key, width = sources_key(), help_width()
    text = None
    try:
        from hnce_cli import _root_help

        if key == _root_help.KEY:
            text = _root_help.TEXTS.get(width)
    except ImportError:
        pass
    if text is None:
        try:
            text = cache_file(key, width).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
    sys.stdout.write(text)
    return True


def answer_and_remember(arg: str) -> None:
    """Run typer for `hnce --help`, print its text, and save it for the next time."""
    import contextlib
    import io

    from hnce_cli.cli import app

    buffer = io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(buffer):
        try:
            app(args=[arg], prog_name="hnce")
        except SystemExit as exc:
            code = exc.code
    text = buffer.getvalue()
    sys.stdout.write(text)
    if not code and text.startswith("Usage: hnce "):
        target = cache_file(sources_key(), help_width())
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(text, encoding="utf-8")
            partial.replace(target)  # atomic: a concurrent run reads all or nothing
        except OSError:
            pass  # a read-only home: just slower next time
    sys.exit(code)


def typer_help(columns: int) -> str:
    """The root help exactly as typer prints it for `hnce --help` at this many columns
    (a child process: typer's test runner forces its own width)."""
    import subprocess

    env = {**os.environ, "COLUMNS": str(columns), "LINES": "40", "HNCE_NO_FAST_HELP": "1"}
    code = "import sys; sys.argv[0] = 'hnce'; from hnce_cli.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code, "--help"], env=env, capture_output=True,
                          text=True, encoding="utf-8", check=False, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"hnce --help exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def render_module() -> str:
    texts = {max(min(c, MAX_CONTENT_WIDTH) - 2, 50): typer_help(c) for c in COLUMNS}
    body = "".join(
        f"    {width}: (\n" + "".join(f"        {line!r}\n" for line in text.splitlines(True))
        + "    ),\n"
        for width, text in sorted(texts.items()))
    return (
        "# ruff: noqa: E501\n"
        '"""Generated by `python -m hnce_cli.fasthelp` from the typer app; do not edit.\n\n'
        'Checked by tests/test_help.py; used by hnce_cli.fasthelp when KEY matches."""\n\n'
        f'KEY = "{sources_key()}"\n'
        "TEXTS = {\n" + body + "}\n"
    )


if __name__ == "__main__":
    TARGET.write_text(render_module(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET} (key {sources_key()})\n")
