"""The HTTP boundary: every value a route receives is checked once, before the route runs.

FastAPI has parsed the path, the query and the JSON body into the types the route
declares; what those types let through, and what no service should ever be handed, is
refused here for every route alike, naming the field:

- text holding a control character (NUL, ESC, CR, …; a line feed is allowed for a
  multi-line reason) or a lone surrogate, in a parameter, a body value or a key of a JSON
  object (`text.never_text`): PostgreSQL refuses NUL and half characters, so without this a
  value the services do not check field by field (a password, a key of a forms file, a
  cell of an import) would reach the database and answer 500;
- a whole number no database column holds (beyond ±(2^63 − 1)) and a number that is not a
  number (NaN, Infinity, which Python's JSON parser accepts).

The services still hold each field to its own, stricter rule (`text.py`, the schemas): this
check is the floor under all of them, so no route can be forgotten.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel

from hnce_cli import text
from hnce_cli.errors import FieldProblem, ValidationFailed

MAX_JSON_INT = 2**63 - 1  # the largest integer any database column holds (BIGINT)
MAX_PROBLEMS = 20  # a body with thousands of bad values is named by its first ones


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _walk(value: Any, where: str, problems: list[FieldProblem]) -> None:
    """Add a problem for each bad value in `value` (named `where`), at most MAX_PROBLEMS."""
    if len(problems) >= MAX_PROBLEMS:
        return
    if isinstance(value, str):
        found = text.never_text(value)
        if found is not None:
            problems.append(found._replace(field=where or "body"))
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -MAX_JSON_INT <= value <= MAX_JSON_INT:
            problems.append(FieldProblem(where or "body", f"数值超出范围 (a whole number no database holds: "
                                                          f"at most {MAX_JSON_INT:,} either way)",
                                         "send a real count, id or year; long codes (ID numbers, mobiles) as text"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            problems.append(FieldProblem(where or "body", f"不是有效的数值：{value} (not a finite number)",
                                         "send a number such as 12 or 1.5"))
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            _walk(item, _join(where, name), problems)
        for name, item in (value.__pydantic_extra__ or {}).items():
            _walk(item, _join(where, str(name)), problems)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = _join(where, text.visible(str(key)))  # a bad key is named as it can be shown
            _walk(key, name, problems)
            _walk(item, name, problems)
    elif isinstance(value, list | tuple | set | frozenset):
        try:  # a long list of text (100,000 ID numbers) is one search, not 100,000
            if text.never_text("".join(value)) is None:
                return
        except TypeError:
            if _plain_rows(value):
                return
        for index, item in enumerate(value):
            _walk(item, _join(where, str(index)), problems)


def _plain_rows(items: Any) -> bool:
    """Every item a flat JSON object of text and ordinary numbers, none to refuse: the rows of
    an import, 100,000 of them checked in one pass and one search instead of value by value."""
    parts: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            return False
        for key, value in item.items():
            if not isinstance(key, str):
                return False
            parts.append(key)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(value, bool) or value is None:
                continue
            elif isinstance(value, int):
                if not -MAX_JSON_INT <= value <= MAX_JSON_INT:
                    return False
            elif not isinstance(value, float) or not math.isfinite(value):
                return False
    return text.never_text("".join(parts)) is None


def check(values: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Refuse the request (ValidationFailed, 422) if any value breaks the floor above.
    `names`: how each argument is named in messages ("" for a body: its fields by their path)."""
    problems: list[FieldProblem] = []
    for key, value in values.items():
        _walk(value, names.get(key, key), problems)
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise ValidationFailed(f"请求参数有误 (invalid request): {fields}", problems=problems)


def checking(endpoint: Callable[..., Any], names: Mapping[str, str], skip: tuple[type, ...]) -> Callable[..., Any]:
    """`endpoint` with its arguments checked first (those of the `skip` types — the request, the
    caller's backend — are not input). The wrapper shows FastAPI the endpoint's signature with
    its annotations resolved, so it reads the same parameters as before."""
    signature = inspect.signature(endpoint)
    hints = typing.get_type_hints(endpoint, include_extras=True)
    # only annotations written as text (`from __future__ import annotations`) are resolved: a
    # signature made of objects (the operations table's routes) is kept as it is
    signature = signature.replace(
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) if isinstance(p.annotation, str) else p
                    for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation)
        if isinstance(signature.return_annotation, str) else signature.return_annotation)

    def given(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if not isinstance(v, skip)}

    if inspect.iscoroutinefunction(endpoint):
        async def checked_async(**values: Any) -> Any:
            check(given(values), names)
            return await endpoint(**values)

        checked: Callable[..., Any] = checked_async
    else:
        def checked_sync(**values: Any) -> Any:
            check(given(values), names)
            return endpoint(**values)

        checked = checked_sync
    checked.__signature__ = signature  # type: ignore[attr-defined]
    checked.__name__ = endpoint.__name__
    checked.__doc__ = endpoint.__doc__
    return checked
