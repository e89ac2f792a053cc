"""Units (用人单位) and regions: add, import, search, show, and resolving what a
user typed (an id, a USCC, a name or a code) to one unit or region."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from hnce_cli.models import Region, Unit
from hnce_cli.schemas import RegionOut, UnitImportResult, UnitInput, UnitOut, UnitSearchResult
from hnce_cli.services import audit
from hnce_cli.services.context import Actor
from hnce_cli.validation import validate_uscc

NO_MATCH_HINT = (
    "未查询到单位。请使用单位全称或关键词查询，避免因单位缩写问题查询失败；"
    "如仍未查询到，请咨询本单位继续教育负责人（一般为人事部门），"
    "确认本单位是否已在河南平台完成用人单位注册（单位注册后才可查询到）。"
)
SEARCH_LIMIT = 50


def unit_out(unit: Unit, region_name: str) -> UnitOut:
    return UnitOut(id=unit.id, name=unit.name, uscc=unit.uscc, region_code=unit.region_code,
                   region_name=region_name, kind=unit.kind)


def _with_regions(session: Session, units: Sequence[Unit]) -> list[UnitOut]:
    codes = {u.region_code for u in units}
    names = dict(session.execute(select(Region.code, Region.name)
                                 .where(Region.code.in_(codes))).all()) if codes else {}
    return [unit_out(u, names.get(u.region_code, u.region_code)) for u in units]


def resolve_region(session: Session, value: str, *, field: str = "region") -> Region:
    """A region by code (410105, 410100-ZS) or exact name (金水区, 郑州市市直, 省直)."""
    value = value.strip()
    region = session.get(Region, value)
    if region is None:
        matches = session.execute(select(Region).where(Region.name == value)).scalars().all()
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


def resolve_unit(session: Session, value: str, *, field: str = "unit") -> Unit:
    """A unit by id, USCC or exact full name; a keyword is not enough here."""
    value = value.strip()
    unit = None
    if value.isdigit() and len(value) < 18:
        unit = session.get(Unit, int(value))
    if unit is None and len(value) == 18:
        unit = session.execute(select(Unit).where(Unit.uscc == value.upper())).scalar_one_or_none()
    if unit is None:
        matches = session.execute(select(Unit).where(Unit.name == value)).scalars().all()
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


def _check_new_unit(session: Session, data: UnitInput, row: str = "") -> tuple[str, Region]:
    prefix = f"row {row}: " if row else ""
    name = data.name.strip()
    if not name:
        raise ValidationFailed.one(prefix + "name", "单位名称不能为空", "give the full name")
    uscc = validate_uscc(data.uscc, field=prefix + "uscc")
    region = resolve_region(session, data.region, field=prefix + "region")
    if region.level == "province":
        raise ValidationFailed.one(prefix + "region", "单位不能直接属于省",
                                   "use 省直 (410000-ZS), a city's 市直 or a county-level area")
    return uscc, region


def add_unit(session: Session, actor: Actor, data: UnitInput) -> UnitOut:
    actor.require("system_admin")
    uscc, region = _check_new_unit(session, data)
    if session.execute(select(Unit.id).where(Unit.uscc == uscc)).first():
        raise Conflict(f"统一社会信用代码 {uscc} 已登记 (unit already registered)", {"uscc": uscc})
    unit = Unit(name=data.name.strip(), uscc=uscc, region_code=region.code, kind="ordinary",
                created_at=clock.now())
    session.add(unit)
    session.flush()
    audit.record(session, actor, "unit.create", "unit", unit.id, None,
                 {"name": unit.name, "uscc": uscc, "region": region.code})
    return unit_out(unit, region.name)


def import_units(session: Session, actor: Actor, rows: list[UnitInput]) -> UnitImportResult:
    """Validate every row first; write all or nothing."""
    actor.require("system_admin")
    problems: list[FieldProblem] = []
    checked: list[tuple[UnitInput, str, Region]] = []
    seen: dict[str, int] = {}
    for index, data in enumerate(rows, start=2):  # row 1 is the header
        try:
            uscc, region = _check_new_unit(session, data, row=str(index))
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
        existing = set(session.execute(select(Unit.uscc).where(Unit.uscc.in_(list(seen))))
                       .scalars())
        for uscc in sorted(existing):
            problems.append(FieldProblem(f"row {seen[uscc]}: uscc", f"{uscc} 已登记",
                                         "remove the row; the unit exists"))
    if problems:
        raise ValidationFailed(f"{len(problems)} 处错误，未导入任何单位 (nothing imported)",
                               problems=problems)
    now = clock.now()
    units = [Unit(name=d.name.strip(), uscc=u, region_code=r.code, kind="ordinary", created_at=now)
             for d, u, r in checked]
    session.add_all(units)
    session.flush()
    audit.record_many(session, actor, "unit.create", "unit",
                      [(u.id, None, {"name": u.name, "uscc": u.uscc, "region": u.region_code})
                       for u in units])
    return UnitImportResult(created=len(units),
                            units=[unit_out(u, r.name) for u, (_, _, r) in zip(units, checked,
                                                                               strict=True)])


def search_units(session: Session, query: str, region: str | None = None,
                 limit: int = SEARCH_LIMIT) -> UnitSearchResult:
    """Full name first, then keyword (every space-separated word must appear)."""
    query = query.strip()
    statement = select(Unit)
    if region:
        statement = statement.where(Unit.region_code == resolve_region(session, region).code)
    words = query.split()
    if len(words) == 1:
        statement = statement.where(
            or_(Unit.name.contains(words[0], autoescape=True), Unit.uscc == words[0].upper())
        )
    elif words:
        statement = statement.where(*[Unit.name.contains(w, autoescape=True) for w in words])
    units = session.execute(statement.order_by(Unit.kind, Unit.name).limit(limit)).scalars().all()
    units = sorted(units, key=lambda u: (u.name != query, u.kind != "ordinary", u.name))
    return UnitSearchResult(query=query, units=_with_regions(session, units),
                            hint=None if units else NO_MATCH_HINT)


def show_unit(session: Session, value: str) -> UnitOut:
    try:
        unit = resolve_unit(session, value)
    except ValidationFailed as exc:
        raise NotFound(f"未找到单位 {value}", {"unit": value}) from exc
    return _with_regions(session, [unit])[0]


def temporary_unit_for(session: Session, region_value: str, *, field: str = "region") -> Unit:
    """The temporary management unit of a county-level area (no-employer registration)."""
    region = resolve_region(session, region_value, field=field)
    if region.level in ("provincial_direct", "city_direct", "province", "city"):
        raise ValidationFailed.one(
            field, f"无工作单位人员不可选择{region.name}",
            "choose the county-level area (县/区) you live or work in, e.g. 金水区",
        )
    unit = session.execute(
        select(Unit).where(Unit.region_code == region.code, Unit.kind == "temporary")
    ).scalars().first()
    if unit is None:
        raise NotFound(f"{region.name} 没有临时管理单位", {"region": region.code})
    return unit


def list_regions(session: Session, level: str | None = None,
                 parent: str | None = None) -> list[RegionOut]:
    statement = select(Region).order_by(Region.code)
    if level:
        statement = statement.where(Region.level == level)
    if parent:
        statement = statement.where(Region.parent_code == resolve_region(session, parent).code)
    return [RegionOut.model_validate(r, from_attributes=True)
            for r in session.execute(statement).scalars()]
