"""Annual completion 年度完成情况: a person's credits of a year against that year's rules.

Credits count only in their own year (nothing carries over). A year passes when the
public 公需科目 and professional 专业科目 minimums and the total are all met.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from hnce_cli import clock
from hnce_cli.errors import NotFound, PermissionDenied, ValidationFailed
from hnce_cli.models import CreditRecord, Professional, Unit
from hnce_cli.schemas import CompletionQuery, CompletionRow
from hnce_cli.services.context import Actor
from hnce_cli.services.reference import region_prefix
from hnce_cli.services.rules import (  # the results and result_of are re-exported from here too
    NO_RULES,  # noqa: F401
    NOT_PASSED,
    PASSED,
    YearRules,
    all_rules,
    refresh,
    result_of,
)
from hnce_cli.services.sync import SOURCES as SYNC_SOURCES
from hnce_cli.terms import COMPLETION_GROUPS, COMPLETION_RESULTS, CREDIT_SOURCES
from hnce_cli.validation import mask_id_number


@dataclass(frozen=True)
class YearSummary:
    professional_id: int
    year: int
    public: float
    professional: float
    rules: YearRules | None

    @property
    def total(self) -> float:
        return self.public + self.professional

    @property
    def result(self) -> str:
        return result_of(self.public, self.professional, self.rules)

    @property
    def passed(self) -> bool:
        return self.result == PASSED


def year_summary(session: Session, professional_id: int, year: int) -> YearSummary:
    """One person's credits of one year by subject, with the result against the rules."""
    t = CreditRecord.__table__
    rows = session.connection().execute(
        sa.select(t.c.subject, sa.func.coalesce(sa.func.sum(t.c.credits), 0))
        .where(t.c.year == year, t.c.professional_id == professional_id)
        .group_by(t.c.subject)
    ).all()
    by_subject = {subject: float(total) for subject, total in rows}
    return YearSummary(professional_id=professional_id, year=year,
                       public=by_subject.get("public", 0.0),
                       professional=by_subject.get("professional", 0.0),
                       rules=refresh(session).get(year))


# --- many people at once (unit / region / province views, certificate batches) ------------

def _units(session: Session) -> dict[int, tuple[str, str]]:
    """Every unit's name and region (thousands, not millions): joined in Python, not per row in SQL."""
    u = Unit.__table__
    return {uid: (name, region) for uid, name, region in
            session.connection().execute(sa.select(u.c.id, u.c.name, u.c.region_code))}


def _people_statement(*, unit_ids: Iterable[int] | None, region_prefix: str | None,
                      professional_ids: Iterable[int] | None, after_id: int | None,
                      limit: int | None) -> sa.Select:
    p, u = Professional.__table__, Unit.__table__
    statement = sa.select(p.c.id, p.c.id_number, p.c.name, p.c.unit_id).where(p.c.status == "approved")
    if unit_ids is not None:
        statement = statement.where(p.c.unit_id.in_(sorted(set(unit_ids))))
    if region_prefix:
        statement = statement.where(p.c.unit_id.in_(
            sa.select(u.c.id).where(u.c.region_code.startswith(region_prefix, autoescape=True))))
    if professional_ids is not None:
        statement = statement.where(p.c.id.in_(sorted(set(professional_ids))))
    if after_id is not None:
        statement = statement.where(p.c.id > after_id)
    statement = statement.order_by(p.c.id)
    return statement.limit(limit) if limit is not None else statement


def _sums_statement(year: int, people: sa.Select | None) -> sa.Select:
    """One grouped aggregate over credit_record, in professional_id order; the covering index
    (year, professional_id, subject, credits) answers it without touching the table. Narrowed
    to `people` (index seeks) unless the list is everyone."""
    c = CreditRecord.__table__
    statement = (
        sa.select(
            c.c.professional_id,
            sa.func.sum(sa.case((c.c.subject == "public", c.c.credits), else_=0)),
            sa.func.sum(sa.case((c.c.subject == "professional", c.c.credits), else_=0)),
        )
        .where(c.c.year == year)
        .group_by(c.c.professional_id)
        .order_by(c.c.professional_id)
    )
    if people is not None:
        statement = statement.where(c.c.professional_id.in_(people.with_only_columns(people.selected_columns[0])))
    return statement


def _stream(session: Session, statement: sa.Select) -> Iterator[tuple]:
    """Rows as plain tuples, streamed. SQLite: the driver's cursor directly (a province is a
    million rows; SQLAlchemy's Row objects would cost more than the query); elsewhere a
    server-side cursor through SQLAlchemy."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        # Options on the statement, not the connection: Connection.execution_options
        # changes the connection in place, and later writes in the same transaction
        # would run through a server-side cursor too.
        yield from conn.execute(statement.execution_options(yield_per=10_000))
        return
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        while batch := cursor.fetchmany(10_000):
            yield from batch
    finally:
        cursor.close()


def year_rows(session: Session, year: int, *, unit_ids: Iterable[int] | None = None,
              region_prefix: str | None = None, professional_ids: Iterable[int] | None = None,
              result: str | None = None, after_id: int | None = None,
              limit: int | None = None) -> Iterator[CompletionRow]:
    """Every approved professional in the filters with their year, ordered by id.

    People with no credits that year appear with zeros (未通过). Filters combine (AND);
    `result` is PASSED or NOT_PASSED; `after_id`/`limit` page by id (keyset), and `limit`
    counts rows before the result filter. No scope check here: callers scope.

    Two streams in id order — the people, and the sums of their credits — merged here,
    so the cost is one pass over each, however large the list.
    """
    rules = refresh(session).get(year)
    units = _units(session)
    if region_prefix and all(region.startswith(region_prefix) for _, region in units.values()):
        region_prefix = None  # the whole province: no filter at all
    people = _people_statement(unit_ids=unit_ids, region_prefix=region_prefix, professional_ids=professional_ids,
                               after_id=after_id, limit=limit)
    everyone = unit_ids is None and region_prefix is None and professional_ids is None and after_id is None \
        and limit is None
    sums = _stream(session, _sums_statement(year, None if everyone else people))
    pending = next(sums, None)
    new = tuple.__new__
    for pid, id_number, name, unit_id in _stream(session, people):
        while pending is not None and pending[0] < pid:
            pending = next(sums, None)
        if pending is not None and pending[0] == pid:
            pub, pro = float(pending[1]), float(pending[2])
        else:
            pub = pro = 0.0
        outcome = result_of(pub, pro, rules)
        if result is not None and outcome != result:
            continue
        unit_name, region_code = units[unit_id]
        yield new(CompletionRow, (pid, id_number, name, unit_id, unit_name, region_code, pub, pro,
                                  pub + pro, outcome))


# --- who may see whose completion -------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What an admin's completion list covers (already checked against their role)."""

    label: str
    unit_ids: frozenset[int] | None = None
    region_prefix: str | None = None
    masked: bool = True


def resolve_scope(session: Session, actor: Actor, unit: str | None, region: str | None) -> Scope:
    """The list an admin asked for, within what their role allows.

    Unit admins: their units (or one of them); HR: their region (or a unit or region
    inside it); support and system admin: any unit or region, by default the province.
    ID numbers are shown in full to system admins and to unit admins (their own people).
    """
    from hnce_cli.services.accounts import region_descendants
    from hnce_cli.services.units import resolve_region, resolve_unit

    actor.require("unit_admin", "hr", "support", "system_admin")
    masked = actor.role not in ("system_admin", "unit_admin")
    unit_row = resolve_unit(session, unit, field="unit") if unit else None
    region_row = resolve_region(session, region, field="region") if region else None
    allowed_regions: set[str] | None = None
    if actor.role == "hr":
        allowed_regions = region_descendants(session, actor.region_code or "")
    if actor.role == "unit_admin" and unit_row is not None and unit_row.id not in actor.unit_ids:
        raise PermissionDenied(f"{unit_row.name} 不是您管理的单位", {"unit_id": unit_row.id})
    if allowed_regions is not None:
        if unit_row is not None and unit_row.region_code not in allowed_regions:
            raise PermissionDenied(f"{unit_row.name} 不在您的审核区域内", {"unit_id": unit_row.id})
        if region_row is not None and region_row.code not in allowed_regions:
            raise PermissionDenied(f"{region_row.name} 不在您的审核区域内", {"region": region_row.code})
    unit_ids: frozenset[int] | None = None
    prefix: str | None = None
    parts: list[str] = []
    if unit_row is not None:
        unit_ids = frozenset({unit_row.id})
        parts.append(unit_row.name)
    elif actor.role == "unit_admin":
        unit_ids = actor.unit_ids
        parts.append("您管理的单位")
    if region_row is not None:
        prefix = region_prefix(region_row.code)
        parts.append(region_row.name)
    elif actor.role == "hr" and unit_row is None:
        own = resolve_region(session, actor.region_code or "", field="region")
        prefix = region_prefix(own.code)
        parts.append(own.name)
    if not parts:
        parts.append("全省")
    return Scope(label=" · ".join(parts), unit_ids=unit_ids, region_prefix=prefix, masked=masked)


# The words a request may use for a result or a summary level: the codes, and the
# platform's own words from hnce_cli.terms (县 too, as people say it).
RESULT_WORDS = {**{code: code for code in (PASSED, NOT_PASSED)},
                **{COMPLETION_RESULTS[code]: code for code in (PASSED, NOT_PASSED)}}
BY_WORDS = {**{code: code for code in COMPLETION_GROUPS},
            **{label: code for code, label in COMPLETION_GROUPS.items()}, "县": "county"}


def check_query(query: CompletionQuery, by: str | None = None) -> tuple[CompletionQuery, str | None]:
    """A list's (or, with `by`, a summary's) request checked and in codes: the one check
    that `hnce completion` and the HTTP API share, so both refuse the same combinations
    with the same error. Returns the query with its result as a code, and the level."""
    if query.person:
        raise ValidationFailed.one("person", "列表与个人查询不能同时使用",
                                   "drop PERSON for a list, or drop --unit/--region/--all/-o/--result/--by")
    if query.year is None:
        raise ValidationFailed.one("year", "列表须指定年度", "add --year, e.g. --year 2025")
    result = None
    if query.result is not None:
        result = RESULT_WORDS.get(query.result.strip())
        if result is None:
            raise ValidationFailed.one("result", f"没有这种结果：{query.result}",
                                       "use passed 通过 | not_passed 未通过")
    level = None
    if by is not None:
        level = BY_WORDS.get(by.strip())
        if level is None:
            raise ValidationFailed.one("by", f"不支持的汇总方式：{by}", "use city 市 | county 区县 | unit 单位")
        if result is not None:
            raise ValidationFailed.one("result", "汇总已分别统计通过与未通过", "drop --result with --by")
    return query.model_copy(update={"result": result}), level


def _rules_out(rules: YearRules | None) -> Any:
    from hnce_cli.schemas import YearRulesOut

    return None if rules is None else YearRulesOut(**rules.as_data(), origin=rules.origin)


def _header(session: Session, actor: Actor, query: CompletionQuery) -> tuple[Any, Scope]:
    from hnce_cli.schemas import CompletionPage

    refresh(session)
    scope = resolve_scope(session, actor, query.unit, query.region)
    return CompletionPage(year=query.year, scope=scope.label, rules=_rules_out(all_rules().get(query.year)),
                          masked=scope.masked, rows=[], next_after=None), scope


def list_rows(session: Session, actor: Actor, query: CompletionQuery) -> tuple[Any, Iterator[CompletionRow]]:
    """A whole list as (header page without rows, rows as a stream), masked for the viewer.

    The stream reads the session: consume it before the session closes.
    """
    query, _ = check_query(query)
    header, scope = _header(session, actor, query)
    rows = year_rows(session, query.year, unit_ids=scope.unit_ids, region_prefix=scope.region_prefix,
                     result=query.result)
    if scope.masked:
        rows = (r._replace(id_number=mask_id_number(r.id_number)) for r in rows)
    return header, rows


PAGE_MAX = 5000


def page(session: Session, actor: Actor, query: CompletionQuery, after: int | None, limit: int) -> Any:
    """One page (keyset by professional id) of a list, for the HTTP API: the page's people
    first (an indexed range), then the aggregate of only their credits, so every page
    costs the same however deep it is."""
    from hnce_cli.schemas import CompletionRowOut

    query, _ = check_query(query)
    header, scope = _header(session, actor, query)
    limit = max(1, min(limit, PAGE_MAX))
    p, u = Professional.__table__, Unit.__table__
    ids_statement = (sa.select(p.c.id).select_from(p.join(u, u.c.id == p.c.unit_id))
                     .where(p.c.status == "approved").order_by(p.c.id).limit(limit))
    if scope.unit_ids is not None:
        ids_statement = ids_statement.where(p.c.unit_id.in_(sorted(scope.unit_ids)))
    if scope.region_prefix:
        ids_statement = ids_statement.where(u.c.region_code.startswith(scope.region_prefix, autoescape=True))
    if after is not None:
        ids_statement = ids_statement.where(p.c.id > after)
    ids = list(session.connection().execute(ids_statement).scalars())
    rows = list(year_rows(session, query.year, professional_ids=ids, result=query.result)) if ids else []
    out = [CompletionRowOut.model_construct(
        **r._replace(id_number=mask_id_number(r.id_number) if scope.masked else r.id_number)._asdict())
        for r in rows]
    return header.model_copy(update={"rows": out, "next_after": ids[-1] if len(ids) == limit else None})


# --- one person's years and details (年度完成情况 / 详细) ---------------------------------

def _person(session: Session, actor: Actor, query: str | None) -> Any:
    """The person asked about, within the viewer's scope (a professional: themself)."""
    from hnce_cli.services import lookup

    if actor.role == "professional" and not query:
        statement = lookup.view_statement().where(Professional.account_id == actor.account_id)
        people = lookup.professional_views(session, statement, actor)
        if not people:
            raise NotFound("没有您的注册信息")
        return people[0]
    if not query:
        raise ValidationFailed.one("person", "请指定人员", "give an ID number, mobile or name")
    found = lookup.lookup(session, actor, query)
    if len(found.matches) > 1:
        listed = "；".join(f"{p.name} {p.id_number} {p.unit_name}" for p in found.matches[:5])
        raise ValidationFailed.one("person", f"找到 {found.total} 人：{listed}",
                                   "give the ID number to choose one")
    return found.matches[0]


def _origins(session: Session, records: list[Any]) -> dict[int, str]:
    """What each record came from, in words (the declaration's form, the national record no.)."""
    from hnce_cli.models import Declaration
    from hnce_cli.services.forms import current_forms

    ids = {int(r.source_ref.split(":", 1)[1]): r.id for r in records
           if r.source == "declaration" and r.source_ref.split(":", 1)[-1].isdigit()}
    forms = {f.code: f.name for f in current_forms(session)} if ids else {}
    described: dict[int, str] = {}
    if ids:
        for did, form_code in session.execute(
                sa.select(Declaration.id, Declaration.form_code).where(Declaration.id.in_(sorted(ids)))):
            described[ids[did]] = f"学时申报 #{did}（{forms.get(form_code, form_code)}）"
    for r in records:
        if r.id not in described:
            # "<ID number>:<record no.>" from an import: the record number says it
            ref = r.source_ref.split(":", 1)[-1] if r.source in SYNC_SOURCES else r.source_ref
            described[r.id] = f"{CREDIT_SOURCES.get(r.source, r.source)}记录 {ref}"
    return described


def person_view(session: Session, actor: Actor, query: str | None, year: int | None = None,
                details: bool = False) -> Any:
    """Every year of one person against its rules, and (details) each credit record."""
    from hnce_cli.schemas import CompletionYear, CreditRecordOut, PersonCompletion

    rules = refresh(session)
    person = _person(session, actor, query)
    t = CreditRecord.__table__
    sums: dict[int, dict[str, float]] = {}
    for y, subject, total in session.connection().execute(
            sa.select(t.c.year, t.c.subject, sa.func.sum(t.c.credits))
            .where(t.c.professional_id == person.id).group_by(t.c.year, t.c.subject)):
        sums.setdefault(int(y), {})[subject] = float(total)
    today = clock.today()
    first = person.registered_at.year if person.registered_at else today.year
    years = {y for y in rules if first <= y <= today.year} | set(sums)
    if year is not None:
        years = {year}
    out_years = []
    for y in sorted(years, reverse=True):
        r = rules.get(y)
        pub, pro = sums.get(y, {}).get("public", 0.0), sums.get(y, {}).get("professional", 0.0)
        out_years.append(CompletionYear(
            year=y, public=pub, professional=pro, total=pub + pro, result=result_of(pub, pro, r),
            min_total=r.min_total if r else None, min_professional=r.min_professional if r else None,
            min_public=r.min_public if r else None, deadline=r.deadline if r else None,
            open=bool(r and today <= r.deadline)))
    records_out = None
    if details:
        statement = sa.select(CreditRecord).where(CreditRecord.professional_id == person.id)
        if year is not None:
            statement = statement.where(CreditRecord.year == year)
        records = list(session.execute(
            statement.order_by(CreditRecord.year.desc(), CreditRecord.created_at, CreditRecord.id)).scalars())
        origins = _origins(session, records)
        records_out = [CreditRecordOut(id=r.id, year=r.year, subject=r.subject, credits=r.credits,
                                       source=r.source, source_ref=r.source_ref, origin=origins[r.id],
                                       created_at=r.created_at) for r in records]
    return PersonCompletion(professional_id=person.id, name=person.name, id_number=person.id_number,
                            masked=person.masked, unit_name=person.unit_name, status=person.status,
                            years=out_years, details=records_out)


# --- the summary: people / 通过 / 未通过 per city, county or unit (the province's view) ----

EPS = 1e-9  # the tolerance of result_of, the same in SQL


def passing_statement(year: int, rules: YearRules, people: sa.Select | None = None) -> sa.Select:
    """The ids of people who pass `year`, decided in SQL exactly as result_of decides in Python:
    the two grouped sums per person over the covering index (once each: a HAVING that repeats
    them costs a third more on SQLite), then the three minimums as bound parameters."""
    c = CreditRecord.__table__
    sums = (
        sa.select(c.c.professional_id,
                  sa.func.sum(sa.case((c.c.subject == "public", c.c.credits), else_=0)).label("pub"),
                  sa.func.sum(sa.case((c.c.subject == "professional", c.c.credits), else_=0)).label("pro"))
        .where(c.c.year == year)
        .group_by(c.c.professional_id)
    )
    if people is not None:
        sums = sums.where(c.c.professional_id.in_(people))
    s = sums.subquery("sums")
    eps = sa.bindparam("eps", EPS, type_=sa.Float)
    return sa.select(s.c.professional_id).where(
        s.c.pub + eps >= sa.bindparam("min_public", rules.min_public, type_=sa.Float),
        s.c.pro + eps >= sa.bindparam("min_professional", rules.min_professional, type_=sa.Float),
        s.c.pub + s.c.pro + eps >= sa.bindparam("min_total", rules.min_total, type_=sa.Float))


def unit_counts(session: Session, year: int, *, unit_ids: Iterable[int] | None = None,
                region_prefix: str | None = None) -> dict[int, tuple[int, int]]:
    """{unit id: (approved people, passed)} for the year, as one SQL statement. No scope check here.

    Two grouped counts per unit, added up: the approved people (a covering-index scan of
    professional), and the ids that pass (passing_statement) joined to professional by
    primary key. On SQLite this costs what the bare grouped aggregate costs; a LEFT JOIN
    of all people to the passing ids is ~40 % dearer (an automatic index on the aggregate).
    People with no credits that year are counted, and do not pass.
    """
    p, u = Professional.__table__, Unit.__table__
    rules = refresh(session).get(year)
    if region_prefix and all(region.startswith(region_prefix) for _, region in _units(session).values()):
        region_prefix = None  # the whole province: no filter at all
    where = [p.c.status == "approved"]
    if unit_ids is not None:
        where.append(p.c.unit_id.in_(sorted(set(unit_ids))))
    if region_prefix:
        where.append(p.c.unit_id.in_(
            sa.select(u.c.id).where(u.c.region_code.startswith(region_prefix, autoescape=True))))
    zero = sa.literal_column("0", sa.Integer)
    people = (sa.select(p.c.unit_id.label("unit_id"), sa.func.count().label("people"), zero.label("passed"))
              .where(*where).group_by(p.c.unit_id))
    if rules is None:
        counted = people.subquery("counted")
    else:
        narrowed = unit_ids is not None or region_prefix is not None
        passing = passing_statement(year, rules, sa.select(p.c.id).where(*where) if narrowed else None
                                    ).subquery("passing")
        passed = (sa.select(p.c.unit_id, zero, sa.func.count())
                  .select_from(passing.join(p, p.c.id == passing.c.professional_id))
                  .where(*where).group_by(p.c.unit_id))
        counted = sa.union_all(people, passed).subquery("counted")
    statement = (sa.select(counted.c.unit_id, sa.func.sum(counted.c.people), sa.func.sum(counted.c.passed))
                 .group_by(counted.c.unit_id))
    return {int(uid): (int(n), int(ok)) for uid, n, ok in session.connection().execute(statement)}


def _group(code: str, name: str, people: int, passed: int, has_rules: bool,
           region_code: str | None = None) -> Any:
    from hnce_cli.schemas import CompletionGroup

    if not has_rules:
        return CompletionGroup(code=code, name=name, region_code=region_code, people=people, passed=0,
                               not_passed=0, no_rules=people, pass_rate=None)
    return CompletionGroup(code=code, name=name, region_code=region_code, people=people, passed=passed,
                           not_passed=people - passed, pass_rate=round(passed / people, 4) if people else None)


def summary(session: Session, actor: Actor, query: CompletionQuery, by: str = "city") -> Any:
    """A scope's completion of a year counted per city, county-level region or unit, with the
    total: counted per unit in SQL (unit_counts), rolled up over the region tree in Python
    (thousands of units, not millions of people)."""
    from hnce_cli.models import Region
    from hnce_cli.schemas import CompletionSummary

    query, level = check_query(query, by)
    by = level or "city"
    header, scope = _header(session, actor, query)
    rules = all_rules().get(query.year)  # refreshed by _header
    counts = unit_counts(session, query.year, unit_ids=scope.unit_ids, region_prefix=scope.region_prefix)
    units = {uid: (name, region) for uid, (name, region) in _units(session).items() if uid in counts}
    r = Region.__table__
    regions = {code: (name, level, parent) for code, name, level, parent in
               session.connection().execute(sa.select(r.c.code, r.c.name, r.c.level, r.c.parent_code))}

    def city_of(code: str) -> str:
        seen = code
        while seen in regions and regions[seen][1] not in ("city", "province", "provincial_direct"):
            parent = regions[seen][2]
            if not parent:
                break
            seen = parent
        return seen

    totals: dict[tuple, list[int]] = {}
    for uid, (people, passed) in counts.items():
        unit_name, region = units[uid]
        if by == "unit":
            key: tuple = (region, unit_name, uid)
        elif by == "county":
            key = (region,)
        else:
            key = (city_of(region),)
        acc = totals.setdefault(key, [0, 0])
        acc[0] += people
        acc[1] += passed
    has_rules = rules is not None
    groups = []
    for key in sorted(totals):
        people, passed = totals[key]
        if by == "unit":
            groups.append(_group(str(key[2]), key[1], people, passed, has_rules, region_code=key[0]))
        else:
            groups.append(_group(key[0], regions.get(key[0], (key[0],))[0], people, passed, has_rules))
    all_people = sum(g.people for g in groups)
    all_passed = sum(totals[k][1] for k in totals)
    total = _group("", "合计", all_people, all_passed, has_rules)
    return CompletionSummary(year=query.year, scope=header.scope, by=by, rules=header.rules, groups=groups,
                             total=total)
