"""Annual completion 年度完成情况: a person's credits of a year against that year's rules.

Credits count only in their own year (nothing carries over). A year passes when the
public 公需科目 and professional 专业科目 minimums and the total are all met.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from hnce_cli import clock
from hnce_cli.errors import NotFound, PermissionDenied, ValidationFailed
from hnce_cli.masking import mask_id_number
from hnce_cli.schemas.rows import CompletionRow
from hnce_cli.services.context import Actor
from hnce_cli.services.rules import (  # the results and result_of are re-exported from here too
    NO_RULES,  # noqa: F401
    NOT_PASSED,
    PASSED,
    YearRules,
    result_of,
)
from hnce_cli.services.rules import current as current_rules
from hnce_cli.store import Db, in_list, json_list, like_prefix

if TYPE_CHECKING:
    from hnce_cli.schemas import CompletionQuery
from hnce_cli.terms import COMPLETION_GROUPS, COMPLETION_RESULTS, CREDIT_SOURCES, IMPORTED_SOURCES, unit_label

Rules = dict[int, YearRules]  # the rules in force (rules.current): read once a request, passed along

# A person's sums of one year by subject, as every completion view adds them: the same
# expression everywhere (certificates too, through year_rows), so that floats add up in
# the same order.
_SUMS = ("sum(CASE WHEN c.subject = 'public' THEN c.credits ELSE 0 END), "
         "sum(CASE WHEN c.subject = 'professional' THEN c.credits ELSE 0 END)")


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


def year_summary(db: Db, professional_id: int, year: int, *, rules: Rules | None = None) -> YearSummary:
    """One person's credits of one year by subject, with the result against the rules."""
    rows = db.rows("SELECT subject, coalesce(sum(credits), 0) FROM credit_record "
                   "WHERE year = :year AND professional_id = :p GROUP BY subject", year=year, p=professional_id)
    by_subject = {subject: float(total) for subject, total in rows}
    in_force = current_rules(db) if rules is None else rules
    return YearSummary(professional_id=professional_id, year=year,
                       public=by_subject.get("public", 0.0),
                       professional=by_subject.get("professional", 0.0),
                       rules=in_force.get(year))


# --- many people at once (unit / region / province views, certificate batches) ------------

def _units(db: Db) -> dict[int, tuple[str, str]]:
    """Every unit's name as shown (a temporary management unit as such: `terms.unit_label`) and
    region (thousands, not millions): joined in Python, not per row in SQL."""
    return {uid: (unit_label(name, kind), region)
            for uid, name, region, kind in db.rows("SELECT id, name, region_code, kind FROM unit")}


def _whole_province(units: dict[int, tuple[str, str]], region_prefix: str | None) -> str | None:
    """The region prefix to filter by; None when every unit is under it (the whole province:
    no filter at all, so the people are a plain scan and the sums are not narrowed)."""
    if region_prefix and all(region.startswith(region_prefix) for _, region in units.values()):
        return None
    return region_prefix


def _ids_in(db: Db, column: str, param: str) -> str:
    """`column IN (the ids bound as one JSON array in :param)`. On PostgreSQL the array is read
    as a constant, `= ANY('{…}')` (what an IN list of literals becomes there), so the planner
    knows how many ids there are: it guesses 100 rows for a set-returning function, and a
    streamed cursor then plans a whole-table scan for one unit's people (10× slower)."""
    if db.pg:
        return f"{column} = ANY(CAST(translate(CAST(:{param} AS TEXT), '[]', '{{}}') AS BIGINT[]))"
    return in_list(db, column, param, "BIGINT")


def _people_filter(db: Db, alias: str, *, unit_ids: Iterable[int] | None, region_prefix: str | None,
                   professional_ids: Iterable[int] | None = None,
                   after_id: int | None = None) -> tuple[str, dict[str, Any]]:
    """The approved professionals in the filters, as a WHERE condition on `alias` (professional)
    and its parameters. Lists of ids are one JSON parameter each."""
    where = [f"{alias}.status = 'approved'"]
    params: dict[str, Any] = {}
    if unit_ids is not None:
        where.append(_ids_in(db, f"{alias}.unit_id", "unit_ids"))
        params["unit_ids"] = json_list(sorted(set(unit_ids)))
    if region_prefix:
        where.append(f"{alias}.unit_id IN (SELECT u.id FROM unit u WHERE u.region_code LIKE :prefix ESCAPE '/')")
        params["prefix"] = like_prefix(region_prefix)
    if professional_ids is not None:
        where.append(_ids_in(db, f"{alias}.id", "professional_ids"))
        params["professional_ids"] = json_list(sorted(set(professional_ids)))
    if after_id is not None:
        where.append(f"{alias}.id > :after_id")
        params["after_id"] = after_id
    return " AND ".join(where), params


def year_rows(db: Db, year: int, *, unit_ids: Iterable[int] | None = None,
              region_prefix: str | None = None, professional_ids: Iterable[int] | None = None,
              result: str | None = None, after_id: int | None = None,
              limit: int | None = None, rules: Rules | None = None) -> Iterator[CompletionRow]:
    """Every approved professional in the filters with their year, ordered by id.

    People with no credits that year appear with zeros (未通过). Filters combine (AND);
    `result` is PASSED or NOT_PASSED; `after_id`/`limit` page by id (keyset), and `limit`
    counts rows before the result filter. No scope check here: callers scope. `rules`:
    the rules in force when the caller has read them already (else read here).

    Two streams in id order — the people, and the sums of their credits — merged here,
    so the cost is one pass over each, however large the list.
    """
    year_rules = (current_rules(db) if rules is None else rules).get(year)
    units = _units(db)
    region_prefix = _whole_province(units, region_prefix)
    where, params = _people_filter(db, "p", unit_ids=unit_ids, region_prefix=region_prefix,
                                   professional_ids=professional_ids, after_id=after_id)
    people = f"FROM professional p WHERE {where} ORDER BY p.id"
    if limit is not None:
        people += " LIMIT :limit"
        params["limit"] = int(limit)
    everyone = unit_ids is None and region_prefix is None and professional_ids is None and after_id is None \
        and limit is None
    # The covering index (year, professional_id, subject, credits) answers the sums in
    # professional_id order without touching the table; narrowed to the people (index
    # seeks) unless the list is everyone.
    narrowed = "" if everyone else f" AND c.professional_id IN (SELECT p.id {people})"
    sums = db.stream(
        f"SELECT c.professional_id, {_SUMS} FROM credit_record c WHERE c.year = :year{narrowed} "
        "GROUP BY c.professional_id ORDER BY c.professional_id", year=year, **params)
    try:
        pending = next(sums, None)
        new = tuple.__new__
        for pid, id_number, name, unit_id in db.stream(f"SELECT p.id, p.id_number, p.name, p.unit_id {people}",
                                                       **params):
            while pending is not None and pending[0] < pid:
                pending = next(sums, None)
            if pending is not None and pending[0] == pid:
                pub, pro = float(pending[1]), float(pending[2])
            else:
                pub = pro = 0.0
            outcome = result_of(pub, pro, year_rules)
            if result is not None and outcome != result:
                continue
            unit_name, region_code = units[unit_id]
            yield new(CompletionRow, (pid, id_number, name, unit_id, unit_name, region_code, pub, pro,
                                      pub + pro, outcome))
    finally:
        sums.close()


# --- who may see whose completion -------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What an admin's completion list covers (already checked against their role)."""

    label: str
    unit_ids: frozenset[int] | None = None
    region_prefix: str | None = None
    masked: bool = True


def resolve_scope(db: Db, actor: Actor, unit: str | None, region: str | None) -> Scope:
    """The list an admin asked for, within what their role allows.

    Unit admins: their units (or one of them); HR: their region (or a unit or region
    inside it); support and system admin: any unit or region, by default the province.
    ID numbers are shown in full to system admins and to unit admins (their own people).
    """
    from hnce_cli.services.accounts import region_descendants
    from hnce_cli.services.units import resolve_region, resolve_unit

    actor.require("unit_admin", "hr", "support", "system_admin")
    masked = actor.role not in ("system_admin", "unit_admin")
    unit_row = resolve_unit(db, unit, field="unit") if unit else None
    region_row = resolve_region(db, region, field="region") if region else None
    allowed_regions: set[str] | None = None
    if actor.role == "hr":
        allowed_regions = region_descendants(db, actor.region_code or "")
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
    if region_row is not None or (actor.role == "hr" and unit_row is None):
        from hnce_cli.reference import region_prefix

        if region_row is None:
            region_row = resolve_region(db, actor.region_code or "", field="region")
        prefix = region_prefix(region_row.code)
        parts.append(region_row.name)
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
    from hnce_cli.services.rules import year_rules_out

    return None if rules is None else year_rules_out(rules)


def _header(db: Db, actor: Actor, query: CompletionQuery, rules: Rules) -> tuple[Any, Scope]:
    from hnce_cli.schemas import CompletionPage

    scope = resolve_scope(db, actor, query.unit, query.region)
    return CompletionPage(year=query.year, scope=scope.label, rules=_rules_out(rules.get(query.year)),
                          masked=scope.masked, rows=[], next_after=None), scope


def list_rows(db: Db, actor: Actor, query: CompletionQuery) -> tuple[Any, Iterator[CompletionRow]]:
    """A whole list as (header page without rows, rows as a stream), masked for the viewer.

    The stream reads the transaction: consume it before the transaction ends.
    """
    query, _ = check_query(query)
    rules = current_rules(db)
    header, scope = _header(db, actor, query, rules)
    rows = year_rows(db, query.year, unit_ids=scope.unit_ids, region_prefix=scope.region_prefix,
                     result=query.result, rules=rules)
    if scope.masked:
        rows = (r._replace(id_number=mask_id_number(r.id_number)) for r in rows)
    return header, rows


PAGE_MAX = 5000


def page(db: Db, actor: Actor, query: CompletionQuery, after: int | None, limit: int) -> Any:
    """One page (keyset by professional id) of a list, for the HTTP API: the page's people
    first (an indexed range), then the aggregate of only their credits, so every page
    costs the same however deep it is."""
    from hnce_cli.schemas import CompletionRowOut

    query, _ = check_query(query)
    rules = current_rules(db)
    header, scope = _header(db, actor, query, rules)
    limit = max(1, min(limit, PAGE_MAX))
    where = ["p.status = 'approved'"]
    params: dict[str, Any] = {"limit": limit}
    if scope.unit_ids is not None:
        where.append(_ids_in(db, "p.unit_id", "unit_ids"))
        params["unit_ids"] = json_list(sorted(scope.unit_ids))
    if scope.region_prefix:
        where.append("u.region_code LIKE :prefix ESCAPE '/'")
        params["prefix"] = like_prefix(scope.region_prefix)
    if after is not None:
        where.append("p.id > :after")
        params["after"] = after
    ids = db.column(f"SELECT p.id FROM professional p JOIN unit u ON u.id = p.unit_id WHERE {' AND '.join(where)} "
                    "ORDER BY p.id LIMIT :limit", **params)
    rows = list(year_rows(db, query.year, professional_ids=ids, result=query.result, rules=rules)) if ids else []
    out = [CompletionRowOut.model_construct(
        **r._replace(id_number=mask_id_number(r.id_number) if scope.masked else r.id_number)._asdict())
        for r in rows]
    return header.model_copy(update={"rows": out, "next_after": ids[-1] if len(ids) == limit else None})


# --- one person's years and details (年度完成情况 / 详细) ---------------------------------

class CreditRow(NamedTuple):
    """One credit record as the details view reads it."""

    id: int
    year: int
    subject: str
    credits: float
    source: str
    source_ref: str
    created_at: datetime


def _person(db: Db, actor: Actor, query: str | None) -> Any:
    """The person asked about, within the viewer's scope (a professional: themself)."""
    from hnce_cli.services import lookup

    if actor.role == "professional" and not query:
        people = lookup.people(db, "p.account_id = :a", actor, a=actor.account_id)
        if not people:
            raise NotFound("没有您的注册信息")
        return people[0]
    if not query:
        raise ValidationFailed.one("person", "请指定人员", "give an ID number, mobile or name")
    found = lookup.lookup(db, actor, query, field="person")
    if len(found.matches) > 1:
        listed = "；".join(f"{p.name} {p.id_number} {p.unit_name}" for p in found.matches[:5])
        raise ValidationFailed.one("person", f"找到 {found.total} 人：{listed}",
                                   "give the ID number to choose one")
    return found.matches[0]


def _origins(db: Db, records: list[CreditRow]) -> dict[int, str]:
    """What each record came from, in words (the declaration's form, the national record no.)."""
    from hnce_cli.services.forms import current_forms

    ids = {int(r.source_ref.split(":", 1)[1]): r.id for r in records
           if r.source == "declaration" and r.source_ref.split(":", 1)[-1].isdigit()}
    described: dict[int, str] = {}
    if ids:
        forms = {f.code: f.name for f in current_forms(db)}
        for did, form_code in db.rows(f"SELECT d.id, d.form_code FROM declaration d WHERE "
                                      f"{in_list(db, 'd.id', 'ids', 'BIGINT')}", ids=json_list(sorted(ids))):
            described[ids[did]] = f"学时申报 #{did}（{forms.get(form_code, form_code)}）"
    for r in records:
        if r.id not in described:
            # "<ID number>:<record no.>" from an import: the record number says it
            ref = r.source_ref.split(":", 1)[-1] if r.source in IMPORTED_SOURCES else r.source_ref
            described[r.id] = f"{CREDIT_SOURCES.get(r.source, r.source)}记录 {ref}"
    return described


def person_view(db: Db, actor: Actor, person: str | None, year: int | None = None,
                details: bool = False) -> Any:
    """Every year of one person against its rules, and (details) each credit record."""
    from hnce_cli.schemas import CompletionYear, CreditRecordOut, PersonCompletion

    rules = current_rules(db)
    found = _person(db, actor, person)
    sums: dict[int, dict[str, float]] = {}
    for y, subject, total in db.rows("SELECT year, subject, sum(credits) FROM credit_record "
                                     "WHERE professional_id = :p GROUP BY year, subject", p=found.id):
        sums.setdefault(int(y), {})[subject] = float(total)
    today = clock.today()
    first = found.registered_at.year if found.registered_at else today.year
    years = {y for y in rules if first <= y <= today.year} | set(sums)
    if year is not None:
        years = {year}
    out_years = []
    for y in sorted(years, reverse=True):
        r = rules.get(y)
        pub, pro = sums.get(y, {}).get("public", 0.0), sums.get(y, {}).get("professional", 0.0)
        out_years.append(CompletionYear.model_construct(
            year=y, public=pub, professional=pro, total=pub + pro, result=result_of(pub, pro, r),
            min_total=r.min_total if r else None, min_professional=r.min_professional if r else None,
            min_public=r.min_public if r else None, deadline=r.deadline if r else None,
            open=bool(r and today <= r.deadline)))
    records_out = None
    if details:
        params: dict[str, Any] = {"p": found.id} if year is None else {"p": found.id, "year": year}
        in_year = "" if year is None else " AND year = :year"
        records = [CreditRow(*row) for row in db.rows(
            "SELECT id, year, subject, credits, source, source_ref, created_at FROM credit_record "
            f"WHERE professional_id = :p{in_year} ORDER BY year DESC, created_at, id", **params)]
        origins = _origins(db, records)
        records_out = [CreditRecordOut.model_construct(id=r.id, year=r.year, subject=r.subject, credits=r.credits,
                                       source=r.source, source_ref=r.source_ref, origin=origins[r.id],
                                       created_at=r.created_at) for r in records]
    return PersonCompletion.model_construct(professional_id=found.id, name=found.name, id_number=found.id_number,
                            masked=found.masked, unit_name=found.unit_name, status=found.status,
                            years=out_years, details=records_out)


# --- the summary: people / 通过 / 未通过 per city, county or unit (the province's view) ----

EPS = 1e-9  # the tolerance of result_of, the same in SQL


def passing_statement(year: int, rules: YearRules, people: str | None = None) -> tuple[str, dict[str, Any]]:
    """The ids (column professional_id) of people who pass `year`, decided in SQL exactly as
    result_of decides in Python, and its parameters: the two grouped sums per person over
    the covering index (once each: a HAVING that repeats them costs a third more on SQLite),
    then the three minimums as bound parameters. `people`, a SELECT of ids, narrows the sums
    (its parameters are the caller's)."""
    narrowed = "" if people is None else f" AND c.professional_id IN ({people})"
    sql = (f"SELECT sums.professional_id FROM (SELECT c.professional_id AS professional_id, "
           f"sum(CASE WHEN c.subject = 'public' THEN c.credits ELSE 0 END) AS pub, "
           f"sum(CASE WHEN c.subject = 'professional' THEN c.credits ELSE 0 END) AS pro "
           f"FROM credit_record c WHERE c.year = :year{narrowed} GROUP BY c.professional_id) AS sums "
           "WHERE sums.pub + :eps >= :min_public AND sums.pro + :eps >= :min_professional "
           "AND sums.pub + sums.pro + :eps >= :min_total")
    return sql, {"year": year, "eps": EPS, "min_public": float(rules.min_public),
                 "min_professional": float(rules.min_professional), "min_total": float(rules.min_total)}


def unit_counts(db: Db, year: int, *, unit_ids: Iterable[int] | None = None,
                region_prefix: str | None = None, rules: Rules | None = None,
                units: dict[int, tuple[str, str]] | None = None) -> dict[int, tuple[int, int]]:
    """{unit id: (approved people, passed)} for the year, as one SQL statement. No scope check here.

    Two grouped counts per unit, added up: the approved people (a covering-index scan of
    professional), and the ids that pass (passing_statement) joined to professional by
    primary key. On SQLite this costs what the bare grouped aggregate costs; a LEFT JOIN
    of all people to the passing ids is ~40 % dearer (an automatic index on the aggregate).
    People with no credits that year are counted, and do not pass. `rules` and `units`:
    what the caller has read already.
    """
    year_rules = (current_rules(db) if rules is None else rules).get(year)
    region_prefix = _whole_province(_units(db) if units is None else units, region_prefix)
    where, params = _people_filter(db, "p", unit_ids=unit_ids, region_prefix=region_prefix)
    people = f"SELECT p.unit_id AS unit_id, count(*) AS people, 0 AS passed FROM professional p WHERE {where} " \
             "GROUP BY p.unit_id"
    if year_rules is None:
        counted = people
    else:
        narrowed = unit_ids is not None or region_prefix is not None
        inner, _ = _people_filter(db, "q", unit_ids=unit_ids, region_prefix=region_prefix)
        passing, passing_params = passing_statement(
            year, year_rules, f"SELECT q.id FROM professional q WHERE {inner}" if narrowed else None)
        params.update(passing_params)
        counted = (f"{people} UNION ALL SELECT p.unit_id, 0, count(*) FROM ({passing}) AS passing "
                   f"JOIN professional p ON p.id = passing.professional_id WHERE {where} GROUP BY p.unit_id")
    sql = f"SELECT counted.unit_id, sum(counted.people), sum(counted.passed) FROM ({counted}) AS counted " \
          "GROUP BY counted.unit_id"
    return {int(uid): (int(n), int(ok)) for uid, n, ok in db.rows(sql, **params)}


def _group(code: str, name: str, people: int, passed: int, has_rules: bool,
           region_code: str | None = None) -> Any:
    from hnce_cli.schemas import CompletionGroup

    if not has_rules:
        return CompletionGroup(code=code, name=name, region_code=region_code, people=people, passed=0,
                               not_passed=0, no_rules=people, pass_rate=None)
    return CompletionGroup(code=code, name=name, region_code=region_code, people=people, passed=passed,
                           not_passed=people - passed, pass_rate=round(passed / people, 4) if people else None)


def summary(db: Db, actor: Actor, query: CompletionQuery, by: str = "city") -> Any:
    """A scope's completion of a year counted per city, county-level region or unit, with the
    total: counted per unit in SQL (unit_counts), rolled up over the region tree in Python
    (thousands of units, not millions of people)."""
    from hnce_cli.schemas import CompletionSummary

    query, level = check_query(query, by)
    by = level or "city"
    in_force = current_rules(db)
    header, scope = _header(db, actor, query, in_force)
    rules = in_force.get(query.year)
    all_units = _units(db)
    counts = unit_counts(db, query.year, unit_ids=scope.unit_ids, region_prefix=scope.region_prefix,
                         rules=in_force, units=all_units)
    units = {uid: unit for uid, unit in all_units.items() if uid in counts}
    regions = {code: (name, level, parent) for code, name, level, parent in
               db.rows("SELECT code, name, level, parent_code FROM region")}

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
