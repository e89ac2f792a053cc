"""The catalogues of hnce's words (docs/i18n.md): find every user-facing string, keep the
Chinese and English .po files in step with the code, compile them to the .mo files the
CLI reads (hnce_cli/i18n.py).

    python -m hnce_cli.catalogues extract   # new strings into locale/*/LC_MESSAGES/hnce.po
    python -m hnce_cli.catalogues compile   # .po -> .mo (commit both)
    python -m hnce_cli.catalogues check     # untranslated strings, stale .mo files; exit 1 if any

The strings are not marked with _() in the command modules: a help text or an option's
help is its own msgid, found by walking the command registry (cli.COMMANDS) the way
`--help` shows it — help texts paragraph by paragraph (an example paragraph keeps its
command lines, only "Example:" is a msgid), option helps whole. Click's and typer's own
words (Usage:, Options, Error: No such option …) are the templates in i18n.py.
Babel (a development dependency, `pip install ".[test]"`) reads and writes the files.
"""

from __future__ import annotations

import inspect
import io
import sys
from collections.abc import Iterator
from typing import Any

from hnce_cli import i18n

# Words of click, typer and questionary that hnce's help, usage errors and prompts show.
CLICK_WORDS = (
    "Usage: ", "Options", "Arguments", "Commands", "Example:", "Examples:",
    "Show this message and exit.", "default: {default}", "env var: {var}", "required",
    "Try '{command} {option}' for help.", "Error: {message}",
    *i18n._USAGE_TEMPLATES, *i18n._REASON_TEMPLATES, *i18n._SUFFIXES, *i18n._KINDS,
    *i18n.QUESTIONARY_WORDS,  # questionary's hints: the wizards' prompts
)


# --- words of the code: table headers, fix hints, the renderer's own notes ----------------
# Found by reading the source (ast), not by running it: a column header is the first
# argument of render.Column in a module that imports it; a fix hint is the third argument of
# ValidationFailed.one / FieldProblem, a `fix=` (or `…_fix=`) keyword or a `…_fix` field —
# as a string literal, a module constant, either side of `or` / `if … else`, or the values
# of a module's dict of hints; a word is the literal of i18n.words("…") or _("…"). An
# f-string is no msgid: its message is shown by the bilingual rule (i18n.split_bilingual).
SOURCE = i18n.LOCALE_DIR.parent


def _literal(node: Any) -> str | None:
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _hint_literals(node: Any, constants: dict[str, Any]) -> Iterator[str]:
    """The constant strings a fix expression can be."""
    import ast

    found = _literal(node)
    if found is not None:
        yield found
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _hint_literals(value, constants)
    elif isinstance(node, ast.IfExp):
        yield from _hint_literals(node.body, constants)
        yield from _hint_literals(node.orelse, constants)
    elif isinstance(node, ast.Name) and node.id in constants:
        yield from _hint_literals(constants[node.id], constants)
    elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
            and isinstance(constants.get(node.value.id), ast.Dict):
        for value in constants[node.value.id].values:
            yield from _hint_literals(value, constants)


def term_headers() -> list[str]:
    """Headers a view takes from the platform's words rather than writing them
    (`Column(SUBJECTS["public"], …)`, a completion summary's 市 / 区县 / 单位, 通过 / 未通过)."""
    from hnce_cli.terms import COMPLETION_GROUPS, COMPLETION_RESULTS, SUBJECTS

    return [*SUBJECTS.values(), *COMPLETION_GROUPS.values(), COMPLETION_RESULTS["passed"],
            COMPLETION_RESULTS["not_passed"]]


def _labels(node: Any) -> Iterator[str]:
    """The literal labels of a detail view's (label, value) pairs anywhere in an expression:
    `[("姓名", p.name), …]`, a list added to it, a comprehension over such a list."""
    import ast

    for sub in ast.walk(node):
        if isinstance(sub, ast.Tuple) and len(sub.elts) == 2:
            label = _literal(sub.elts[0])
            if label is not None:
                yield label


def _detail_views(tree: Any, constants: dict[str, Any]) -> Iterator[tuple[str, str | tuple[str, int]]]:
    """What render.print_details(title, pairs) shows in a module: ("label", text) for each
    literal label — of the pairs passed, or of a list the function builds under the name
    passed (`pairs = [...]; pairs += [...]; print_details(t, [(k, v) for k, v in pairs …])`)
    — and ("title", text) for a constant title. A title that is the enclosing function's
    parameter (`render_account(account, output, title)`) is ("title", (function, index)):
    its callers' literals are the titles (source_strings looks them up in every module)."""
    import ast

    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        built: dict[str, list[Any]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        built.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name) \
                    and node.value is not None:
                built.setdefault(node.target.id, []).append(node.value)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and _called(node) == "print_details"):
                continue
            arguments = {k.arg: k.value for k in node.keywords}
            title = node.args[0] if node.args else arguments.get("title")
            pairs = node.args[1] if len(node.args) > 1 else arguments.get("pairs")
            if isinstance(title, ast.Name) and title.id in params:
                yield "title", (function.name, params.index(title.id))
            elif title is not None:
                for text in _hint_literals(title, constants):
                    yield "title", text
            if pairs is None:
                continue
            yield from (("label", text) for text in _labels(pairs))
            for name in {n.id for n in ast.walk(pairs) if isinstance(n, ast.Name)}:
                for value in built.get(name, ()):
                    yield from (("label", text) for text in _labels(value))


def _called(node: Any) -> str:
    import ast

    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def source_strings() -> dict[str, dict[str, list[str]]]:
    """The table headers, fix hints, words, detail views' labels and views' constant titles
    written in src/hnce_cli, each with where it is (`commands/unit.py`):
    {"header": {msgid: [where]}, "fix": …, "word": …, "label": …, "title": …}."""
    import ast

    found: dict[str, dict[str, list[str]]] = {"header": {}, "fix": {}, "word": {}, "label": {}, "title": {}}

    def add(kind: str, text: str | None, where: str) -> None:
        if text and text.strip() and where not in found[kind].get(text, ()):
            found[kind].setdefault(text, []).append(where)

    modules = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if relative.startswith("migrations/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {node.targets[0].id: node.value for node in tree.body
                     if isinstance(node, ast.Assign) and len(node.targets) == 1
                     and isinstance(node.targets[0], ast.Name)}
        modules.append((relative, tree, constants))
    passed_titles: set[tuple[str, int]] = set()  # (function, index): a title handed to print_details
    for relative, tree, constants in modules:
        for kind, text in _detail_views(tree, constants):
            if isinstance(text, tuple):
                passed_titles.add(text)
            else:
                add(kind, text, relative)
    for relative, tree, constants in modules:
        renders_columns = any(isinstance(node, ast.ImportFrom) and node.module == "hnce_cli.render"
                              and any(alias.name == "Column" for alias in node.names)
                              for node in ast.walk(tree))
        for node in ast.walk(tree):
            where = relative  # the file, not the line: the .po files do not churn with every edit
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.target.id.endswith("_fix") and node.value is not None:
                for text in _hint_literals(node.value, constants):
                    add("fix", text, where)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "Column" and renders_columns and node.args:
                add("header", _literal(node.args[0]), where)
            elif name in ("words", "_") and node.args and relative != "i18n.py":
                for text in _hint_literals(node.args[0], constants):
                    add("word", text, where)
            if name == "TableView":
                for keyword in node.keywords:
                    if keyword.arg == "title":
                        for text in _hint_literals(keyword.value, constants):
                            add("title", text, where)
            for function, index in passed_titles:
                if name == function and len(node.args) > index:
                    for text in _hint_literals(node.args[index], constants):
                        add("title", text, where)
            if name in ("one", "FieldProblem") and len(node.args) >= 3:
                for text in _hint_literals(node.args[2], constants):
                    add("fix", text, where)
            for keyword in node.keywords:
                if keyword.arg is not None and (keyword.arg == "fix" or keyword.arg.endswith("_fix")):
                    for text in _hint_literals(keyword.value, constants):
                        add("fix", text, where)
    for text in term_headers():
        add("header", text, "terms.py")
    return found


def has_chinese(text: str) -> bool:
    return i18n._HAN.search(text) is not None


def default_translation(msgid: str, language: str, kind: str = "fix") -> str:
    """What a word of the code reads as before anyone translates it: Chinese as written in
    the Chinese catalogue (and a header or word as written, such as ID), English as written
    in the English one, a bilingual hint's English part (i18n.split_bilingual) in English;
    "" (untranslated: a translator's turn) otherwise."""
    if language == "zh":
        return msgid if has_chinese(msgid) or kind != "fix" else ""
    if not has_chinese(msgid):
        return msgid
    return i18n.split_bilingual(msgid)[1] or ""


HEADERS = {
    "zh": "# hnce: what a Chinese desk sees (the default language). The msgids are the help texts\n"
          "# as written in the code; keep the platform's words (待提交, 待审核, 审核通过, 审核不通过,\n"
          "# 公需科目, 专业科目) and every command line as it is. docs/i18n.md\n#",
    "en": "# hnce: English (--lang en, HNCE_LANG=en or an en_* locale). The msgids are the help\n"
          "# texts as written in the code; a translation here may polish them. docs/i18n.md\n#",
}


def _paragraphs(text: str | None) -> Iterator[str]:
    if not text:
        return
    text = inspect.cleandoc(text).partition("\f")[0]
    for paragraph in text.split("\n\n"):
        if paragraph.strip() and not i18n._EXAMPLE.match(paragraph):
            yield paragraph


def strings() -> dict[str, list[str]]:
    """Every msgid the CLI shows, each with where it is shown (`hnce unit add --uscc`)."""
    import typer

    from hnce_cli.cli import COMMANDS, app, load_command

    found: dict[str, list[str]] = {}

    def add(message: str | None, where: str) -> None:
        if message and message.strip():
            found.setdefault(message, []).append(where)

    def walk(command: Any, path: str) -> None:
        for paragraph in _paragraphs(command.help):
            add(paragraph, path)
        for param in command.params:
            add(getattr(param, "help", None), f"{path} {param.opts[0] if param.opts else param.name}")
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    root = typer.main.get_command(app)
    walk(root, "hnce")
    for name, (_location, summary) in COMMANDS.items():
        add(summary, f"hnce --help ({name})")
        walk(load_command(name), f"hnce {name}")
    for word in CLICK_WORDS:
        add(word, "click")
    for kind, texts in source_strings().items():
        for text, places in texts.items():
            for place in places:
                add(text, f"{kind} {place}")
    return found


CODE_KINDS = ("header ", "fix ", "word ", "label ", "title ")  # where a word of the code is shown


def _po_path(language: str) -> Any:
    return i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def _read(language: str) -> Any:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    path = _po_path(language)
    if not path.exists():
        return Catalog(locale="zh_Hans_CN" if language == "zh" else "en", domain=i18n.DOMAIN,
                       project="hnce", fuzzy=False)
    with open(path, "rb") as file:
        return read_po(file, locale="zh_Hans_CN" if language == "zh" else "en", domain=i18n.DOMAIN)


def _write(language: str, catalog: Any) -> None:
    from babel.messages.pofile import write_po

    path = _po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as file:
        write_po(file, catalog, width=0, omit_header=False, sort_output=False, include_previous=False)


def extract() -> None:
    """Bring both .po files in step with the code: new strings added (English: as written;
    Chinese: untranslated, for a translator), strings no longer shown dropped."""
    from babel.messages.catalog import Catalog

    found = strings()
    for language in i18n.LANGUAGES:
        old = _read(language)
        new = Catalog(locale=old.locale, domain=i18n.DOMAIN, project="hnce", version="", fuzzy=False,
                      header_comment=HEADERS[language], msgid_bugs_address="", copyright_holder="",
                      last_translator="hnce", language_team="hnce")
        new.creation_date = old.creation_date
        new.revision_date = old.revision_date
        for msgid, where in found.items():
            kept = old.get(msgid)
            string = kept.string if kept is not None and kept.string else ""
            kinds = [w.split(" ", 1)[0] for w in where if w.startswith(CODE_KINDS)]
            if not string and kinds:
                string = default_translation(msgid, language, "fix" if "fix" in kinds else kinds[0])
            elif language == "en" and not string:
                string = msgid
            comment = "; ".join(dict.fromkeys(where))[:300]
            flags = ("python-brace-format",) if "{" in msgid else ()
            new.add(msgid, string, auto_comments=[comment], flags=flags)
        _write(language, new)


def _mo_bytes(language: str) -> bytes:
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, _read(language), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    for language in i18n.LANGUAGES:
        i18n.mo_path(language).write_bytes(_mo_bytes(language))


def problems() -> list[str]:
    """What is wrong with the catalogues: strings the CLI shows with no translation, and
    .mo files that are not the compiled .po."""
    found = strings()
    out = []
    for language in i18n.LANGUAGES:
        catalog = _read(language)
        for msgid, where in found.items():
            entry = catalog.get(msgid)
            if entry is None or not entry.string or entry.fuzzy:
                out.append(f"{language}: untranslated: {msgid!r} ({where[0]})")
        path = i18n.mo_path(language)
        if not path.exists() or path.read_bytes() != _mo_bytes(language):
            out.append(f"{language}: {path.name} is not the compiled .po: python -m hnce_cli.catalogues compile")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["extract"]:
        extract()
    elif args == ["compile"]:
        compile_all()
    elif args == ["check"]:
        found = problems()
        for line in found:
            sys.stderr.write(line + "\n")
        return 1 if found else 0
    else:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
