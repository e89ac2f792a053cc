"""The layering docs/architecture.md describes, held by the code itself: commands never
reach past the backend, no module imports another that imports it back, the only broad
exception handlers are the top-level ones, and the few constants copied from the schema
of record stay equal to it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "hnce_cli"
ROOT = SRC.parent.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every hnce_cli module a file imports, at the top or inside a function."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("hnce_cli"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("hnce_cli"):
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
    return found


MODULES = {module_name(p): p for p in SRC.rglob("*.py") if "migrations" not in p.parts}


def known(name: str) -> str | None:
    """The module a dotted import name refers to (a module, or a name in one)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@pytest.mark.parametrize("path", sorted(p for p in (SRC / "commands").glob("*.py")), ids=lambda p: p.name)
def test_commands_never_import_services_the_store_or_models(path: Path) -> None:
    forbidden = ("hnce_cli.services", "hnce_cli.store", "hnce_cli.models")
    wrong = sorted(m for m in imports(path) if m.startswith(forbidden))
    assert not wrong, f"{path.name} reaches past the backend: {wrong}"


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = {name: {k for m in imports(path) if (k := known(m)) and k != name} for name, path in MODULES.items()}
    # a package's __init__ re-exporting its own modules is not a circle of the code
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".") and not m.startswith(name + ".")}
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, "import circles:\n" + "\n".join(" → ".join(c) for c in circles)


# The places that catch every exception, each because it must: the root command turns any
# error into its message and exit code; a certificate batch reports one person's failed
# file in the manifest and goes on.
BROAD_HANDLERS = {"cli.py": 1, "certificates/batch.py": 1, "server/verify_page.py": 1}


def test_broad_exception_handlers_are_only_the_top_level_ones() -> None:
    """`except Exception` only where it must stand (each saying why); `except BaseException`
    only to tidy up and raise again (a half-written file, a connection), never to swallow."""
    found: dict[str, int] = {}
    for path in SRC.rglob("*.py"):
        where = path.relative_to(SRC).as_posix()
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if re.search(r"except Exception\b", line):
                found[where] = found.get(where, 0) + 1
                assert "#" in line, f"{where}: a broad handler must say why: {line.strip()}"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Name) \
                    and node.type.id == "BaseException":
                assert isinstance(node.body[-1], ast.Raise), f"{where}:{node.lineno}: BaseException not raised again"
    assert found == BROAD_HANDLERS


def test_no_issue_numbers_in_code_or_docs() -> None:
    """Comments and docs name the domain; history lives in git."""
    pattern = re.compile(r"\b[Ii]ssue\s*#?\d+|\(issue \d+\)")
    places = [*SRC.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py"),
              *(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "bench" / "README.md"]
    hits = [f"{p.relative_to(ROOT)}:{n}" for p in places if p.exists()
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def test_text_limits_are_the_columns_lengths() -> None:
    """The text policy checks each free-text field against its column's length, copied from
    the schema of record: the two must not drift apart."""
    from hnce_cli import text
    from hnce_cli.models import Account, Attachment, Certificate, Declaration, Professional, Unit

    for field, rule in text.PROFILE.items():
        assert Professional.__table__.c[field].type.length == rule.max_chars, field
    assert Unit.__table__.c["name"].type.length == text.UNIT_NAME.max_chars
    assert Account.__table__.c["name"].type.length == text.ACCOUNT_NAME.max_chars
    assert Account.__table__.c["login"].type.length == text.LOGIN.max_chars
    assert Attachment.__table__.c["filename"].type.length == text.FILE_NAME.max_chars
    for table in (Professional, Declaration):
        assert table.__table__.c["reject_reason"].type.length == text.REASON.max_chars
    assert Certificate.__table__.c["revoke_reason"].type.length == text.REASON.max_chars
