"""Units (用人单位) and regions: add, import, search, show, and resolving what a
user typed (an id, a USCC, a name or a code) to one unit or region."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from hnce_cli import clock, text
from hnce_cli.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from hnce_cli.schemas import RegionOut, UnitImportResult, UnitInput, UnitOut, UnitSearchResult
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.store import Db, json_list, like_contains

NO_MATCH_HINT = (
    "未查询到单位。请使用单位全称或关键词查询，避免因单位缩写问题查询失败；"
    "如仍未查询到，请咨询本单位继续教育负责人（一般为人事部门），"
    "确认本单位是否已在河南平台完成用人单位注册（单位注册后才可查询到）。"
)
SEARCH_LIMIT = 50


class RegionRow(NamedTuple):
    code: str
    name: str
    level: str
    parent_code: str | None


class UnitRow(NamedTuple):
    id: int
    name: str
    uscc: str | None
    region_code: str
    kind: str


_UNIT = "SELECT id, name, uscc, region_code, kind FROM unit"
_REGION = "SELECT code, name, level, parent_code FROM region"


def unit_out(unit: UnitRow, region_name: str) -> UnitOut:
    return UnitOut.model_construct(id=unit.id, name=unit.name, uscc=unit.uscc, region_code=unit.region_code,
                   region_name=region_name, kind=unit.kind)


def region_names(db: Db, codes: Sequence[str] | set[str]) -> dict[str, str]:
    codes = sorted(set(codes))
    if not codes:
        return {}
    return dict(db.rows(f"SELECT code, name FROM region WHERE code IN (SELECT value FROM "
                        f"{db.json_values('codes')} AS c)", codes=json_list(codes)))


def _with_regions(db: Db, units: Sequence[UnitRow]) -> list[UnitOut]:
    names = region_names(db, {u.region_code for u in units})
    return [unit_out(u, names.get(u.region_code, u.region_code)) for u in units]


def resolve_region(db: Db, value: str, *, field: str = "region") -> RegionRow:
    """A region by code (410105, 410100-ZS) or exact name (金水区, 郑州市市直, 省直)."""
    value = text.clean(value, field, text.REGION_REF)
    found = db.one(f"{_REGION} WHERE code = :v", v=value)
    region = RegionRow(*found) if found else None
    if region is None:
        matches = [RegionRow(*r) for r in db.rows(f"{_REGION} WHERE name = :v", v=value)]
        if len(matches) == 1:
            region = matches[0]
        elif len(matches) > 1:
            codes = ", ".join(f"{m.code}" for m in matches)
            raise ValidationFailed.one(field, f"区域名称 {value} 不唯一", f"use a code: {codes}")
    if region is None:
        raise ValidationFailed.one(
            field, f"未知区域 {value}",
            "give a GB/T 2260 code (e.g. 410105) or a name such as 金水区 / 郑州市市直 / 省直",
        )
    return region


def unit_by_id(db: Db, unit_id: int) -> UnitRow | None:
    row = db.one(f"{_UNIT} WHERE id = :id", id=unit_id)
    return UnitRow(*row) if row else None


def resolve_unit(db: Db, value: str, *, field: str = "unit") -> UnitRow:
    """A unit by id, USCC or exact full name; a keyword is not enough here."""
    value = text.clean(value, field, text.UNIT_REF)
    unit = None
    if text.is_ascii_digits(value) and len(value) < 18:
        unit = unit_by_id(db, int(value))
    if unit is None and len(value) == 18:
        row = db.one(f"{_UNIT} WHERE uscc = :v", v=value.upper())
        unit = UnitRow(*row) if row else None
    if unit is None:
        matches = [UnitRow(*r) for r in db.rows(f"{_UNIT} WHERE name = :v", v=value)]
        if len(matches) > 1:
            raise ValidationFailed.one(field, f"单位名称 {value} 不唯一",
                                       "give the unit's id or USCC instead")
        unit = matches[0] if matches else None
    if unit is None:
        raise ValidationFailed.one(
            field, f"未找到单位 {value}",
            "search with `hnce unit search KEYWORD` and give the id or full name; " + NO_MATCH_HINT,
        )
    return unit


def _check_new_unit(db: Db, data: UnitInput, row: str = "") -> tuple[str, RegionRow]:
    prefix = f"row {row}: " if row else ""
    name = text.clean(data.name, prefix + "name", text.UNIT_NAME)
    if not name:
        raise ValidationFailed.one(prefix + "name", "单位名称不能为空", "give the full name")
    from hnce_cli.validation import validate_uscc

    uscc = validate_uscc(data.uscc, field=prefix + "uscc")
    region = resolve_region(db, data.region, field=prefix + "region")
    if region.level == "province":
        raise ValidationFailed.one(prefix + "region", "单位不能直接属于省",
                                   "use 省直 (410000-ZS), a city's 市直 or a county-level area")
    return uscc, region


def _new_unit(db: Db, name: str, uscc: str, region_code: str, at: Any) -> int:
    from hnce_cli.models import Unit

    return db.add(Unit(name=name, uscc=uscc, region_code=region_code, kind="ordinary", created_at=at)).id


def add_unit(db: Db, actor: Actor, data: UnitInput) -> UnitOut:
    actor.require("system_admin")
    uscc, region = _check_new_unit(db, data)
    if db.one("SELECT id FROM unit WHERE uscc = :u", u=uscc):
        raise Conflict(f"统一社会信用代码 {uscc} 已登记 (unit already registered)", {"uscc": uscc})
    name = text.normalise(data.name)
    unit_id = _new_unit(db, name, uscc, region.code, clock.now())
    audit.record(db, actor, "unit.create", "unit", unit_id, None,
                 {"name": name, "uscc": uscc, "region": region.code})
    return unit_out(UnitRow(unit_id, name, uscc, region.code, "ordinary"), region.name)


def import_units(db: Db, actor: Actor, rows: list[UnitInput]) -> UnitImportResult:
    """Validate every row first; write all or nothing."""
    actor.require("system_admin")
    problems: list[FieldProblem] = []
    checked: list[tuple[UnitInput, str, RegionRow]] = []
    seen: dict[str, int] = {}
    for index, data in enumerate(rows, start=2):  # row 1 is the header
        try:
            uscc, region = _check_new_unit(db, data, row=str(index))
        except ValidationFailed as exc:
            problems.extend(exc.problems)
            continue
        if uscc in seen:
            problems.append(FieldProblem(f"row {index}: uscc",
                                         f"与第 {seen[uscc]} 行重复 ({uscc})", "keep one row"))
            continue
        seen[uscc] = index
        checked.append((data, uscc, region))
    if seen:
        existing = set(db.column(f"SELECT uscc FROM unit WHERE uscc IN (SELECT value FROM "
                                 f"{db.json_values('codes')} AS c)", codes=json_list(seen)))
        for uscc in sorted(existing):
            problems.append(FieldProblem(f"row {seen[uscc]}: uscc", f"{uscc} 已登记",
                                         "remove the row; the unit exists"))
    if problems:
        raise ValidationFailed(f"{len(problems)} 处错误，未导入任何单位 (nothing imported)",
                               problems=problems)
    now = clock.now()
    units = []
    for data, uscc, region in checked:
        name = text.normalise(data.name)
        units.append((UnitRow(_new_unit(db, name, uscc, region.code, now), name, uscc, region.code, "ordinary"),
                       region))
    audit.record_many(db, actor, "unit.create", "unit",
                      [(u.id, None, {"name": u.name, "uscc": u.uscc, "region": u.region_code}) for u, _ in units])
    return UnitImportResult(created=len(units), units=[unit_out(u, r.name) for u, r in units])


def search_units(db: Db, query: str, region: str | None = None,
                 limit: int = SEARCH_LIMIT) -> UnitSearchResult:
    """Full name first, then keyword (every space-separated word must appear). The query is
    held to the policy before the database sees it: a 40,000-character pattern costs SQLite
    seconds of CPU, and is no one's unit name."""
    query = text.clean(query, "query", text.SEARCH, fix=f"search with at most {text.SEARCH.max_chars} characters")
    where: list[str] = []
    params: dict[str, object] = {"limit": limit}
    if region:
        where.append("region_code = :region")
        params["region"] = resolve_region(db, region).code
    words = query.split()
    if len(words) == 1:
        where.append("(name LIKE :w0 ESCAPE '/' OR uscc = :upper)")
        params.update(w0=like_contains(words[0]), upper=words[0].upper())
    else:
        for i, word in enumerate(words):
            where.append(f"name LIKE :w{i} ESCAPE '/'")
            params[f"w{i}"] = like_contains(word)
    sql = _UNIT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY kind, name LIMIT :limit"
    units = sorted((UnitRow(*r) for r in db.rows(sql, **params)),
                   key=lambda u: (u.name != query, u.kind != "ordinary", u.name))
    return UnitSearchResult.model_construct(query=query, units=_with_regions(db, units),
                                            hint=None if units else NO_MATCH_HINT)


def show_unit(db: Db, unit: str) -> UnitOut:
    """A unit by id, USCC or full name; text the policy refuses (a NUL, 40,000 characters) is
    a validation error naming it, anything else not found is not found."""
    text.clean(unit, "unit", text.UNIT_REF)
    try:
        found = resolve_unit(db, unit)
    except ValidationFailed as exc:
        raise NotFound(f"未找到单位 {unit}", {"unit": unit}) from exc
    return _with_regions(db, [found])[0]


def temporary_unit_for(db: Db, region_value: str, *, field: str = "region") -> UnitRow:
    """The temporary management unit of a county-level area (no-employer registration)."""
    region = resolve_region(db, region_value, field=field)
    if region.level in ("provincial_direct", "city_direct", "province", "city"):
        raise ValidationFailed.one(
            field, f"无工作单位人员不可选择{region.name}",
            "choose the county-level area (县/区) you live or work in, e.g. 金水区",
        )
    row = db.one(f"{_UNIT} WHERE region_code = :code AND kind = 'temporary' ORDER BY id LIMIT 1", code=region.code)
    if row is None:
        raise NotFound(f"{region.name} 没有临时管理单位", {"region": region.code})
    return UnitRow(*row)


def list_regions(db: Db, level: str | None = None, parent: str | None = None) -> list[RegionOut]:
    where, params = [], {}
    if level:
        where.append("level = :level")
        params["level"] = level
    if parent:
        where.append("parent_code = :parent")
        params["parent"] = resolve_region(db, parent).code
    sql = _REGION + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY code"
    return [RegionOut.model_construct(code=c, name=n, level=lv, parent_code=p)
            for c, n, lv, p in db.rows(sql, **params)]
