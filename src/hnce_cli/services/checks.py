"""Checks of what is stored: rows written before the text policy (hnce_cli.text), or
straight into the database, that break it. They still display safely (the renderer
escapes them); this lists them so that a system admin can have them corrected."""

from __future__ import annotations

import json
from typing import NamedTuple

from hnce_cli import text
from hnce_cli.schemas import TextCheck, TextFinding
from hnce_cli.services.context import Actor
from hnce_cli.store import Db

DECLARATION_ANSWER = text.TextRule("申报内容", 200)


class _Table(NamedTuple):
    name: str
    label: str
    columns: tuple[tuple[str, text.TextRule], ...]


# Every stored column that holds free text from outside, with the rule it is held to.
_TABLES = (
    _Table("professional", "专业技术人员", (*text.PROFILE.items(), ("reject_reason", text.REASON))),
    _Table("unit", "单位", (("name", text.UNIT_NAME),)),
    _Table("account", "账号", (("login", text.LOGIN), ("name", text.ACCOUNT_NAME))),
    _Table("declaration", "学时申报", (("reject_reason", text.REASON), ("fields", DECLARATION_ANSWER))),
    _Table("certificate", "证书", (("revoke_reason", text.REASON),)),
    _Table("attachment", "附件", (("filename", text.FILE_NAME),)),
)


def text_check(db: Db, actor: Actor, limit: int = 1000) -> TextCheck:
    """Every stored free-text value that breaks the policy; the first `limit` listed, all
    counted. One pass over each table, row by row (a province is a million people)."""
    actor.require("system_admin")
    checked = found = 0
    findings: list[TextFinding] = []
    for table in _TABLES:
        names = [name for name, _ in table.columns]
        sql = f"SELECT id, {', '.join(names)} FROM {table.name} ORDER BY id"
        for row in db.stream(sql):
            for (name, rule), value in zip(table.columns, row[1:], strict=True):
                for shown_name, label, why, stored in _problems(table, name, rule, value):
                    found += 1
                    if len(findings) < limit:
                        findings.append(TextFinding.model_construct(
                            table=table.name, table_label=table.label, id=row[0], field=shown_name,
                            field_label=label, problem=why, value=text.visible(stored)))
                checked += value is not None
    return TextCheck.model_construct(checked=checked, found=found, findings=findings, truncated=found > len(findings))


def _problems(table: _Table, name: str, rule: text.TextRule, value: str | None):  # noqa: ANN202
    """(field, its label, why, the value) for each part of a stored value that breaks the
    policy: the value itself, or each text answer of a declaration's form."""
    if value is None:
        return
    if table.name == "declaration" and name == "fields":
        try:
            answers = json.loads(value)
        except ValueError:
            yield name, rule.label, "不是有效的 JSON (not valid JSON)", value
            return
        for key, answer in answers.items() if isinstance(answers, dict) else ():
            if isinstance(answer, str) and (why := text.breaks_policy(answer, rule)):
                yield f"fields.{key}", rule.label, why, answer
        return
    why = text.breaks_policy(value, rule)
    if why:
        yield name, rule.label, why, value
