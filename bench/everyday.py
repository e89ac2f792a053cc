"""Benchmark: the everyday reads as whole processes, each against a floor.

    python bench/everyday.py                           # demo database + 1,000,000 people, 9 runs each
    python bench/everyday.py --people 20000            # quick smoke run (builds in seconds)
    python bench/everyday.py --work /tmp/hnce-everyday # build there once; later runs reuse it
    python bench/everyday.py --only demo               # or: --only people
    python bench/everyday.py --work DIR --build-only   # build (or check) the kept databases only

What a support desk, an admin and a professional type every day, timed as the user
waits for it: a whole `hnce` process, started, answering from a SQLite database and
printing (to /dev/null: a pipe, not a terminal). Each command runs interleaved with the
floor, `python -c "import typer, sqlite3"` (the least any Python CLI built on typer
and the stdlib driver takes to start), A/B then B/A in turn, one warm-up round then
--runs (9) timed rounds. For each command: median wall, min wall, median CPU (user +
sys of the child) and the median of the pairwise ratios command / floor.

Targets: each command <= 0.25 s wall (median) and <= 3.5x the floor (median ratio).

Two databases, each in its own folder with its own HNCE_CONFIG_DIR / HNCE_DATA_DIR:

  demo    built by `hnce demo --db sqlite:///…` (its profiles `demo`: a unit admin, and
          `demo-kefu`: support); then, through LocalBackend, one of its approved
          professionals (profile `demo-person`) declares credits (some drafts, some
          approved by the unit and by HR, one rejected), gets credit records of two
          years (raw SQL) and a certificate of the passed year.
  people  --people (1,000,000) approved professionals over 5,000 units, seeded with raw
          SQL (bench/_common.py); support `kefu`, the unit admin of one person's unit and
          an HR reviewer made through LocalBackend; that person declares and is reviewed
          as above, gets credit records and a certificate; a few hundred more
          declarations and credit records (raw SQL) for the people whose name they share
          and their neighbours. No ANALYZE: hnce never runs it, so the query plans are
          those of a database hnce built. Commands run with HNCE_DATABASE_URL and
          HNCE_TOKEN (logged in through LocalBackend).

The commands (the same on both databases):

  status ID / status MOBILE / status NAME     support looks the person up
  whoami                                      the unit admin
  declare list / declare show N / completion  the professional (their own)
  forms show / rules show                     the professional
  profile list                                no database
  certificate verify CODE                     anyone (the person's certificate)

Every command is run once first and must exit 0 (a failing command's time means
nothing): one that fails is reported with its error and left out.

Building 1,000,000 people takes a minute or two; with --work DIR the databases are kept
in DIR and reused by later runs (rebuilt when --people or the schema revision changed).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from _common import bench_env, checkpoint, hnce, make_ids, release, seed_professionals, timed

if TYPE_CHECKING:
    from hnce_cli.backend.local import LocalBackend

PASSWORD = "Bench2025pass"
PERSON_PASSWORD = "Person2025pass"
DEMO_PASSWORD = "Demo@2025"  # hnce demo's sample accounts (hnce_cli/commands/demo.py)
TARGET_WALL = 0.25
TARGET_RATIO = 3.5
FLOOR = [sys.executable, "-c", "import typer, sqlite3"]

# Names as a province has them: 99 surnames x 58 x 58 given-name characters, so a full
# name is shared by about 3 people among 1,000,000 (a look-up by name finds several).
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
            "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚英华建国志晓东丹玲萍红玉兰"
         "海燕辉鹏飞宇浩然涵轩欣怡佳琪思远博文雨萱诺瑞婷嘉晨")


def person_name(i: int) -> str:
    s, g = len(SURNAMES), len(GIVEN)
    return SURNAMES[i % s] + GIVEN[i // s % g] + GIVEN[i // (s * g) % g]


# --- what the commands look at -------------------------------------------------------------

@dataclass
class Setup:
    """A built database and whom the commands run as (kept as setup.json in its folder)."""

    kind: str  # "demo" | "people"
    url: str
    revision: str
    people: int
    person: dict  # the professional: id_number (also their login), name, mobile
    declaration: int  # one of theirs with a review history (declare show N)
    code: str  # their certificate's verification code
    logins: dict[str, tuple[str, str]]  # role -> (login, password)
    profiles: dict[str, str] = field(default_factory=dict)  # role -> profile name (demo)
    note: str = ""


def declaring_year(backend: LocalBackend) -> tuple[int, date | None]:
    """The year to declare for (open now), else the last year with rules at a day before its
    deadline (the build then runs on that day's clock)."""
    from hnce_cli import clock

    today = clock.today()
    rules = {r.year: r for r in backend.show_rules().years}
    open_now = [y for y, r in rules.items() if y <= today.year and today <= r.deadline]
    if open_now:
        return max(open_now), None
    last = max(rules)
    return last, min(rules[last].deadline, date(last, 12, 1))


def person_data(url: str, logins: dict[str, tuple[str, str]]) -> tuple[int, int, int, str]:
    """The professional's own everyday material, through the backend as they and their
    reviewers would make it: 12 declarations in the open year (2 drafts, 10 submitted; the
    unit approves 7 and rejects 1, HR approves 5 of the 7), credit records of the two years
    before (raw SQL: 30 public + 64 professional each, a pass), and the certificate of the
    last of them. Returns (professional id, the declaring year, a declaration with a full
    history, the certificate's verification code)."""
    from contextlib import nullcontext

    from hnce_cli import clock
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import CertificateRequest, DeclarationInput, ReviewRequest

    def backend(role: str) -> LocalBackend:
        b = LocalBackend(url)
        b.token = b.login(*logins[role]).token
        return b

    me = backend("person")
    year, day = declaring_year(me)
    frozen = clock.frozen(datetime(day.year, day.month, day.day, 12)) if day else nullcontext()
    with frozen:
        today = clock.today()
        made = []
        for k in range(12):
            start = max(date(year, 1, 1), min(today, date(year, 12, 31)) - timedelta(days=7 * k + 1))
            if k % 2:
                data = DeclarationInput(form="conference", year=year, submit=k < 10, fields={
                    "meeting_name": f"第{k + 1}届河南省会计学术年会", "organizer": "河南省会计学会",
                    "start_date": start.isoformat(), "days": 1 + k % 3})
            else:
                data = DeclarationInput(form="training", year=year, submit=k < 10, fields={
                    "training_name": f"政府会计准则专题培训（第{k + 1}期）", "organizer": "河南省财政厅",
                    "start_date": start.isoformat(), "days": 1 + k % 4})
            made.append(me.create_declaration(data).id)
        submitted = made[:10]
        unit = backend("unit_admin")
        unit.review_declarations(ReviewRequest(decision="approve", ids=submitted[:7]))
        unit.review_declarations(ReviewRequest(decision="reject", ids=submitted[7:8], reason="会议通知与申报天数不符"))
        backend("hr").review_declarations(ReviewRequest(decision="approve", ids=submitted[:5]))
    release(url)  # hnce's connections closed before raw sqlite3 writes
    conn = sqlite3.connect(store_file(url), isolation_level=None)
    pid = conn.execute("SELECT id FROM professional WHERE id_number = ?", (logins["person"][0],)).fetchone()[0]
    number = logins["person"][0]
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'national', ?, ?)",
        [(pid, number, y, subject, credits, f"{number}:{y}:{k}", stamp)
         for y in (year - 2, year - 1)
         for k, (subject, credits) in enumerate((("public", 15), ("public", 15), ("professional", 20),
                                                  ("professional", 20), ("professional", 24)))])
    conn.execute("COMMIT")
    conn.close()
    cert = me.issue_certificate(CertificateRequest(year=year - 1))
    return pid, year, submitted[0], cert.verification_code


def store_file(url: str) -> str:
    return url.split(":///", 1)[1]


# --- the demo database -----------------------------------------------------------------------

def build_demo(folder: Path) -> Setup:
    """`hnce demo --db …` as a user runs it, then the professional's material."""
    path = folder / "demo.db"
    url = f"sqlite:///{path}"
    env = bench_env(folder)
    done = subprocess.run([*hnce(), "demo", "--db", url, "--json"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"hnce demo failed ({done.returncode}): {done.stderr[-2000:]}")
    made = json.loads(done.stdout)
    conn = sqlite3.connect(path)
    number, name, mobile = conn.execute(
        "SELECT p.id_number, p.name, p.mobile FROM professional p JOIN unit u ON u.id = p.unit_id "
        "WHERE p.status = 'approved' AND u.name = '河南中原会计师事务所有限公司' ORDER BY p.id LIMIT 1").fetchone()
    people = conn.execute("SELECT count(*) FROM professional").fetchone()[0]
    conn.close()
    logins = {"support": ("kefu01", DEMO_PASSWORD), "unit_admin": ("zhongyuan-admin", DEMO_PASSWORD),
              "hr": ("hr-zhengzhou", DEMO_PASSWORD), "person": (number, DEMO_PASSWORD)}
    _, _, declaration, code = person_data(url, logins)
    release(url)
    checkpoint(path)
    from hnce_cli.store.schema import HEAD_REVISION

    return Setup("demo", url, HEAD_REVISION, people, {"id_number": number, "name": name, "mobile": mobile},
                 declaration, code, logins,
                 profiles={"support": "demo-kefu", "unit_admin": "demo", "person": "demo-person"},
                 note=f"hnce demo: {made['units']} units, {made['professionals']} professionals")


# --- 1,000,000 people ------------------------------------------------------------------------

def build_people(folder: Path, n: int) -> Setup:
    """N approved people by raw SQL, the accounts through the backend, the professional's
    material, and the declarations and credit records of the people around them."""
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import AccountInput
    from hnce_cli.services.security import hash_password
    from hnce_cli.store.schema import HEAD_REVISION

    path = folder / "people.db"
    url = f"sqlite:///{path}"
    t0 = time.perf_counter()
    b = LocalBackend(url)
    b.db_upgrade()  # what `hnce db upgrade` runs
    b.db_init("sysadmin", "系统管理员", PASSWORD)
    b.token = b.login("sysadmin", PASSWORD).token
    release(url)

    ids = make_ids(n)
    me = n // 2  # the professional the commands look at
    stamp = (datetime.now(UTC).replace(tzinfo=None) - timedelta(days=400)).isoformat(" ")
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("synchronous=OFF", "cache_size=-400000", "temp_store=MEMORY"):
        conn.execute("PRAGMA " + pragma)
    counties = [c for (c,) in conn.execute("SELECT code FROM region WHERE level = 'county' ORDER BY code")]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO unit (name, uscc, region_code, kind, created_at) VALUES (?, NULL, ?, 'ordinary', ?)",
                     [(f"基准测试单位{i:05d}", counties[i % len(counties)], stamp) for i in range(5000)])
    units = [u for (u,) in conn.execute("SELECT id FROM unit WHERE name LIKE '基准测试单位%' ORDER BY id")]
    seed_professionals(conn, ids, units, status="approved", password_hash=hash_password(PERSON_PASSWORD),
                       stamp=stamp, name=person_name)
    conn.execute("COMMIT")
    conn.close()
    print(f"  {n:,} people seeded in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)

    unit_id = units[me % len(units)]
    b.create_account(AccountInput(login="kefu", name="客服小王", role="support", password=PASSWORD))
    b.create_account(AccountInput(login="unit-admin", name="单位管理员", role="unit_admin", password=PASSWORD,
                                  units=[str(unit_id)]))
    b.create_account(AccountInput(login="hr-henan", name="省人社审核员", role="hr", password=PASSWORD,
                                  region="410000"))
    logins = {"support": ("kefu", PASSWORD), "unit_admin": ("unit-admin", PASSWORD), "hr": ("hr-henan", PASSWORD),
              "person": (ids[me], PERSON_PASSWORD)}
    pid, year, declaration, code = person_data(url, logins)
    others(path, pid, person_name(me), year)
    release(url)
    checkpoint(path)
    print(f"  built in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return Setup("people", url, HEAD_REVISION, n,
                 {"id_number": ids[me], "name": person_name(me), "mobile": f"139{me:08d}"},
                 declaration, code, logins, note=f"{n:,} approved professionals over {len(units):,} units")


def others(path: Path, pid: int, name: str, year: int) -> None:
    """A few hundred declarations and credit records (raw SQL) for the people who share the
    professional's name and the 100 registered around them: what a look-up by name and
    the neighbouring pages of the tables hold."""
    conn = sqlite3.connect(path, isolation_level=None)
    near = [r for (r,) in conn.execute(
        "SELECT id FROM professional WHERE (name = ? OR id BETWEEN ? AND ?) AND id <> ?",
        (name, pid - 50, pid + 50, pid))]
    fields = json.dumps({"meeting_name": "河南省会计学术年会", "organizer": "河南省会计学会",
                         "start_date": f"{year - 1}-05-01", "days": 2}, ensure_ascii=False)
    made, decided = f"{year - 1}-06-01 00:00:00.000000", f"{year - 1}-06-10 00:00:00.000000"
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO declaration (professional_id, unit_id, form_code, subject, year, credits, fields, status, "
        "created_at, updated_at, submitted_at, decided_at) SELECT p.id, p.unit_id, 'conference', 'public', ?, 20.0, "
        "?, ?, ?, ?, ?, ? FROM professional p WHERE p.id = ?",
        [(year - 1, fields, status, made, made, made, decided if status == "approved" else None, other)
         for other in near for status in ("approved", "pending_hr", "pending_unit")])
    conn.executemany(
        "INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, source_ref, "
        "created_at) SELECT p.id, p.id_number, ?, ?, ?, 'national', p.id_number || ':' || ?, ? "
        "FROM professional p WHERE p.id = ?",
        [(year - 1, subject, credits, k, made, other) for other in near
         for k, (subject, credits) in enumerate((("public", 30), ("professional", 20), ("professional", 20)))])
    conn.execute("COMMIT")
    conn.close()


# --- building or reusing ---------------------------------------------------------------------

def ready(folder: Path, kind: str, people: int) -> Setup:
    """The database of `kind` in `folder`: reused when built for the same size and schema."""
    from hnce_cli.store.schema import HEAD_REVISION

    saved = folder / "setup.json"
    if saved.exists():
        setup = Setup(**json.loads(saved.read_text()))
        setup.logins = {k: tuple(v) for k, v in setup.logins.items()}
        if setup.revision == HEAD_REVISION and (kind == "demo" or setup.people == people):
            print(f"{kind}: reusing {folder}", file=sys.stderr, flush=True)
            return setup
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # The certificate key is a file in the data directory: this process issues with it,
    # the timed `hnce certificate verify` reads it.
    os.environ["HNCE_DATA_DIR"], os.environ["HNCE_CONFIG_DIR"] = str(folder / "data"), str(folder / "config")
    print(f"{kind}: building in {folder}", file=sys.stderr, flush=True)
    setup = build_demo(folder) if kind == "demo" else build_people(folder, people)
    saved.write_text(json.dumps(setup.__dict__, ensure_ascii=False, indent=1))
    return setup


def sessions(setup: Setup, folder: Path) -> dict[str, dict[str, str]]:
    """Fresh tokens for this run (a kept database's sessions may have expired), and the
    environment each role's commands run in: the demo's through its profiles (their tokens
    renewed in profiles.json), the people database's through HNCE_DATABASE_URL + HNCE_TOKEN."""
    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.settings import Profile, ProfileStore

    base = bench_env(folder)
    tokens = {role: LocalBackend(setup.url).login(*login).token for role, login in setup.logins.items()}
    release(setup.url)
    store = ProfileStore.load(env=base)
    names = setup.profiles or {"support": "kefu", "unit_admin": "unit-admin", "person": "person"}
    for role, name in names.items():
        store.profiles[name] = Profile(name, db=setup.url, token=tokens[role], login=setup.logins[role][0])
    store.save()
    if setup.kind == "demo":
        return {role: base for role in tokens}
    return {role: bench_env(folder, HNCE_DATABASE_URL=setup.url, HNCE_TOKEN=token) for role, token in tokens.items()}


@dataclass
class Case:
    command: list[str]  # after `hnce`
    role: str
    env: dict[str, str]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def shown(self) -> str:
        return "hnce " + " ".join(self.command)


def cases(setup: Setup, envs: dict[str, dict[str, str]]) -> list[Case]:
    p = setup.person

    def run(role: str, *command: str) -> Case:
        profile = setup.profiles.get(role)
        return Case([*(["-p", profile] if profile else []), *command], role, envs[role])

    return [
        run("support", "status", p["id_number"]),
        run("support", "status", p["mobile"]),
        run("support", "status", p["name"]),
        run("unit_admin", "whoami"),
        run("person", "declare", "list"),
        run("person", "declare", "show", str(setup.declaration)),
        run("person", "completion"),
        Case(["profile", "list"], "-", envs["person"]),
        run("person", "forms", "show"),
        run("person", "rules", "show"),
        run("person", "certificate", "verify", setup.code),
    ]


def check(case: Case) -> None:
    """Run once: a command that fails is reported, not timed."""
    done = subprocess.run([*hnce(), *case.command], env=case.env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        case.error = f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"


def measure(todo: list[Case], floor: Case, runs: int) -> None:
    """One warm-up round, then `runs` rounds; in each, every command paired with a floor
    run, the pair's order alternating round by round."""
    for round_ in range(runs + 1):
        for case in todo:
            pair = [(case, [*hnce(), *case.command]), (floor, FLOOR)]
            if round_ % 2:
                pair.reverse()
            measured = {}
            for who, argv in pair:
                wall, cpu, _ = timed(argv, who.env)
                measured[id(who)] = (wall, cpu)
            if round_ == 0:
                continue
            (wall, cpu), (fwall, fcpu) = measured[id(case)], measured[id(floor)]
            case.walls.append(wall)
            case.cpus.append(cpu)
            case.ratios.append(wall / fwall)
            floor.walls.append(fwall)
            floor.cpus.append(fcpu)


def report(setup: Setup, all_cases: list[Case], floor: Case, load_before: str, load_after: str) -> bool:
    """The table of one database; whether every command ran and met both targets."""
    print(f"\n### {setup.kind}: {setup.note} ({setup.url})")
    print(f"load average (1/5/15 min) before {load_before}, after {load_after}\n")
    print("| command | as | wall median (s) | wall min (s) | CPU median (s) | ratio to floor (median of pairs) | "
          "targets |")
    print("|---|---|---:|---:|---:|---:|---|")
    met = True
    for case in all_cases:
        if case.error:
            met = False
            print(f"| `{case.shown}` | {case.role} | | | | | FAILED, not timed ({case.error}) |")
            continue
        wall, ratio = statistics.median(case.walls), statistics.median(case.ratios)
        missed = [x for x, bad in (("wall", wall > TARGET_WALL), ("ratio", ratio > TARGET_RATIO)) if bad]
        met = met and not missed
        verdict = "missed: " + ", ".join(missed) if missed else "met"
        print(f"| `{case.shown}` | {case.role} | {wall:.3f} | {min(case.walls):.3f} | "
              f"{statistics.median(case.cpus):.3f} | {ratio:.2f}× | {verdict} |")
    if floor.walls:
        print(f"| floor `python -c \"import typer, sqlite3\"` | | {statistics.median(floor.walls):.3f} | "
              f"{min(floor.walls):.3f} | {statistics.median(floor.cpus):.3f} | 1× | |")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000, help="approved professionals in the large database")
    parser.add_argument("--runs", type=int, default=9, help="timed rounds (after one warm-up round)")
    parser.add_argument("--only", choices=("demo", "people"), help="one database only")
    parser.add_argument("--work", type=Path, metavar="DIR",
                        help="build the databases in DIR and keep them; reuse what DIR already holds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder (printed at the end)")
    parser.add_argument("--build-only", action="store_true", help="with --work: build the databases, time nothing")
    args = parser.parse_args()
    if args.build_only and not args.work:
        parser.error("--build-only needs --work DIR (where the databases are kept)")
    for name in [k for k in os.environ if k.startswith("HNCE_")]:  # the caller's profile, token, key, clock
        del os.environ[name]
    work = args.work or Path(tempfile.mkdtemp(prefix="hnce-everyday-"))
    work.mkdir(parents=True, exist_ok=True)
    kinds = [args.only] if args.only else ["demo", "people"]
    try:
        setups = {kind: ready(work / kind, kind, args.people) for kind in kinds}
        if args.build_only:
            return
        print(f"\n## Everyday reads, whole processes; {args.runs} runs each after one warm-up, interleaved A/B "
              f"with the floor `python -c \"import typer, sqlite3\"`; {os.cpu_count()} CPUs; Python "
              f"{sys.version.split()[0]}; SQLite {sqlite3.sqlite_version}")
        print(f"Targets: each command <= {TARGET_WALL} s wall (median) and <= {TARGET_RATIO}x the floor "
              "(median of the pairwise ratios).")
        met = True
        ran: dict[str, list[Case]] = {}
        for kind, setup in setups.items():
            folder = work / kind
            envs = sessions(setup, folder)
            todo = ran[kind] = cases(setup, envs)
            for case in todo:
                check(case)
            floor = Case(["(floor)"], "-", bench_env(folder))
            load_before = "/".join(f"{x:.2f}" for x in os.getloadavg())
            measure([c for c in todo if not c.error], floor, args.runs)
            met = report(setup, todo, floor, load_before, "/".join(f"{x:.2f}" for x in os.getloadavg())) and met
        print(f"\nevery command within both targets: {'yes' if met else 'NO'}")
        failed = [f"{kind}: {case.shown}" for kind, todo in ran.items() for case in todo if case.error]
    finally:
        if args.work:
            print(f"kept {work} (reused by the next run with --work {work})", file=sys.stderr)
        elif args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failed:  # a missed target is a finding; a command that could not run is a broken bench
        sys.exit("commands that failed (not timed): " + "; ".join(failed))


if __name__ == "__main__":
    main()
