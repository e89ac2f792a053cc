"""Benchmark of the certificate engine: 2,000 certificates, single files and merged, and one on demand.

    python bench/certificates_bench.py [--people 2000] [--jobs 2] [--out DIR] [--keep-cache]

Measures (wall clock, on whatever else this machine is doing):
  * preparing the batch's font subset from the 17 MB Noto Sans SC variable font (cold cache),
  * one PDF file per person with N worker processes (multiprocessing),
  * one merged PDF with a page per person,
  * one certificate as a whole `python -c` process: with a cold font cache, with its
    character set already cached, and with the warm GB 2312 base (a new person each time),
  * `hnce certificate batch` over a SQLite database of N passed people (first issue,
    --force, resume with every file present, --merge-per-unit),
  * `hnce certificate --year Y` as a whole process, local mode (SQLite) and remote mode
    (against an `hnce serve` started here on the same database, which draws the PDF).
Floors (plain fpdf2 on this machine, measured when the engine was written): about 6 files/s
per core from the full CJK font, 22 files/s on 2 cores with a pre-subset font, 230 pages/s
merged (MERGED_FLOOR: the merged batch is reported against it).
Targets: >= 40 files/s on 2 cores, >= 200 pages/s merged, one on demand <= 0.6 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵欧阳"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强晓明丹玲萍红玉兰海燕辉鹏飞宇浩然子涵梓轩欣怡佳琪思远博文雨萱一诺浩宇瑞婷嘉怡晨曦俊杰子豪雅静梦瑶文博天佑晓东振华国庆立新春梅秋菊冬梅淑珍淑华凤英桂芳丽娟金凤玉梅雪梅海峰海涛永刚永强志刚志明建军建平"  # noqa: E501
CITIES = "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 济源".split()  # noqa: SIM905
UNITS = ["市财政局", "市第一人民医院", "会计师事务所有限公司", "市税务局", "农村商业银行股份有限公司", "市第二中学",
         "建设投资集团有限公司", "市人民政府办公室", "烟草专卖局", "电力有限公司", "市审计局", "职业技术学院"]


def people(n: int, seed: int = 2025) -> list[tuple[str, str, str, float, float]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        unit = rng.choice(CITIES) + rng.choice(UNITS)
        id_number = f"41{rng.randint(1000, 9999)}19{rng.randint(60, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{i % 1000:03d}X"  # noqa: E501
        out.append((name, id_number, unit, rng.choice((30, 32, 36, 45.5)), rng.choice((60, 64, 72, 90))))
    return out


def make_datas(n: int, key: bytes):
    from hnce_cli.certificates import CertificateContent, CertificateData, mask_id_number, sign

    datas = []
    for i, (name, id_number, unit, public, professional) in enumerate(people(n)):
        number = f"HN2025-{i + 1:08d}"
        code = sign(CertificateContent(number, id_number, name, 2025, public, professional, date(2026, 1, 15)), key)
        datas.append(CertificateData(
            name=name, id_number_masked=mask_id_number(id_number), unit_name=unit, year=2025,
            public_credits=public, professional_credits=professional, total_credits=public + professional,
            certificate_number=number, issue_date=date(2026, 1, 15), verification_code=code,
            verify_url=f"https://hnce.example.cn/verify/{code}",
        ))
    return datas


_WORKER: dict = {}


def _init_worker(font) -> None:
    from hnce_cli.certificates import load_template

    _WORKER["template"] = load_template()
    _WORKER["font"] = font


def _write(job) -> str:
    from hnce_cli.certificates import write_one

    path, data = job
    write_one(path, data, _WORKER["template"], _WORKER["font"])
    return path


ONE_SCRIPT = """
import sys
from datetime import date
from hnce_cli.certificates import CertificateData, write_one
name = sys.argv[1]
write_one(sys.argv[2], CertificateData(
    name=name, id_number_masked="410102********123X", unit_name="郑州市二七区财政局", year=2025,
    public_credits=30, professional_credits=60, total_credits=90, certificate_number="HN2025-00000001",
    issue_date=date(2026, 1, 15), verification_code="HN2025-00000001-BWRQ-PWG4-XJE9-83KA",
    verify_url="https://hnce.example.cn/verify/HN2025-00000001-BWRQ-PWG4-XJE9-83KA"))
"""


CPU_LOG: list[float] = []


def one_process(name: str, out: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", ONE_SCRIPT, name, str(out)], check=True, env=os.environ.copy())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_LOG.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return time.perf_counter() - start


# --- whole processes: `hnce certificate batch` and `hnce certificate ID` over a database ----------

PASSWORD = "Bench2025pass"
MERGED_FLOOR = 230  # pages/s: plain fpdf2 writing one merged file, measured on this machine


def hnce() -> list[str]:
    script = shutil.which("hnce", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "hnce_cli"]


def valid_id(i: int, rng: random.Random) -> str:
    from hnce_cli.validation import id_check_char

    birth = f"19{rng.randint(60, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"4101{rng.randint(1, 8):02d}{birth}{i % 1000:03d}"
    return first17 + id_check_char(first17)


def build_db(work: Path, n: int, units: int = 40) -> dict:
    """A SQLite database: `units` units in several regions, n approved people who passed 2025."""
    import sqlite3
    from datetime import UTC, datetime

    from _common import release

    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import UnitInput
    from hnce_cli.validation import uscc_check_char

    path = work / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    b = LocalBackend(url)
    b.db_upgrade()  # what `hnce db upgrade` runs
    b.db_init("sysadmin", "系统管理员", PASSWORD)
    b.token = b.login("sysadmin", PASSWORD).token
    regions = ["410102", "410103", "410105", "410302", "410305", "410202", "410502", "410702"]
    unit_ids = []
    for u in range(units):
        first17 = f"91{regions[u % len(regions)]}MA44{u:05d}"
        unit = b.add_unit(UnitInput(name=f"{CITIES[u % len(CITIES)]}{UNITS[u % len(UNITS)]}{u}",
                                    uscc=first17 + uscc_check_char(first17), region=regions[u % len(regions)]))
        unit_ids.append(unit.id)
    rng = random.Random(7)
    stamp = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    release(url)  # hnce's connections closed before raw sqlite3 writes
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    first = conn.execute("SELECT coalesce(max(id), 0) FROM account").fetchone()[0] + 1
    rows = []
    for i, (name, _id, _unit, public, professional) in enumerate(people(n)):
        rows.append((first + i, valid_id(i, rng), name, unit_ids[i % len(unit_ids)], public, professional))
    # people log in with a password: the first one does, in the on-demand case
    from hnce_cli.services.security import hash_password

    shared = hash_password(PASSWORD)
    conn.executemany("INSERT INTO account (id, login, password_hash, role, name, active, failed_logins, created_at)"
                     " VALUES (?, ?, ?, 'professional', ?, 1, 0, ?)",
                     ((aid, num, shared, name, stamp) for aid, num, name, *_ in rows))
    conn.executemany("INSERT INTO professional (account_id, id_number, name, gender, birth_date, mobile, email, "
                     "unit_id, status, registered_at, decided_at) VALUES (?,?,?,?,?,?,?,?, 'approved', ?, ?)",
                     ((aid, num, name, "男", f"{num[6:10]}-{num[10:12]}-{num[12:14]}", f"139{aid:08d}",
                       f"u{aid}@example.cn", unit, stamp, stamp) for aid, num, name, unit, *_ in rows))
    ids = dict(conn.execute("SELECT id_number, id FROM professional"))
    conn.executemany("INSERT INTO credit_record (professional_id, id_number, year, subject, credits, source, "
                     "source_ref, created_at) VALUES (?, ?, 2025, ?, ?, 'national', ?, ?)",
                     [(ids[num], num, subject, credits, f"{num}-{subject}", stamp)
                      for _aid, num, _name, _unit, public, professional in rows
                      for subject, credits in (("public", public), ("professional", professional))])
    conn.execute("COMMIT")
    conn.close()
    token = b.token
    # the first 12 print locally, the next 6 through `hnce serve` (each a first issue)
    person_tokens = [LocalBackend(url).login(num, PASSWORD).token for _, num, *_ in rows[:LOCAL + 6]]
    release(url)  # the sessions written, before `hnce` processes open the file
    return {"url": url, "path": path, "admin": token, "people": [r[1] for r in rows[:LOCAL + 6]],
            "names": [r[2] for r in rows[:LOCAL + 6]], "person_tokens": person_tokens}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, proc


def cli_cases(args: argparse.Namespace, work: Path, rows: list[tuple[str, str, str]]) -> None:
    """The whole `hnce` process, as a script in January would run it."""
    setup = build_db(work, args.people)
    from _common import bench_env

    env = bench_env(work, HNCE_DATABASE_URL=setup["url"], HNCE_TOKEN=setup["admin"],
                    HNCE_CERT_VERIFY_URL="https://hnce.example.cn/verify")
    if "HNCE_CERT_FONT_CACHE" in os.environ:  # a fresh cache; --keep-cache: the user's own
        env["HNCE_CERT_FONT_CACHE"] = os.environ["HNCE_CERT_FONT_CACHE"]
    if not args.only_on_demand:
        batch_cases(args, work, env, rows)
    on_demand_cases(setup, env, work, rows)


def batch_cases(args: argparse.Namespace, work: Path, env: dict[str, str], rows: list[tuple[str, str, str]]) -> None:
    """`hnce certificate batch`: first issue, --force, resume, merged per unit."""
    n = args.people
    out = work / "cli-single"
    shutil.rmtree(out, ignore_errors=True)
    batch = [*hnce(), "certificate", "batch", "--year", "2025", "--province", "--jobs", str(args.jobs), "--json"]
    wall, cpu, _ = timed([*batch, "--out", str(out)], env)
    rows.append((f"hnce certificate batch, {args.jobs} jobs, first issue", f"{n / wall:.1f} files/s",
                 f"{n} people in {wall:.1f} s (issuing {n} certificates + audit rows, font subset, PDFs); "
                 f"CPU {cpu:.1f} s = {cpu * 1000 / n:.0f} ms a file"))
    wall, cpu, _ = timed([*batch, "--out", str(out), "--force"], env)
    rows.append((f"hnce certificate batch, {args.jobs} jobs, re-issue (--force)", f"{n / wall:.1f} files/s",
                 f"{n} files rewritten in {wall:.1f} s; CPU {cpu:.1f} s = {cpu * 1000 / n:.0f} ms a file"))
    wall, cpu, _ = timed([*batch, "--out", str(out)], env)
    rows.append(("hnce certificate batch, resume with every file present", f"{wall:.2f} s",
                 f"nothing rewritten; CPU {cpu:.1f} s"))
    merged = work / "cli-merged"
    runs = []
    for _ in range(args.merged_runs):
        shutil.rmtree(merged, ignore_errors=True)
        runs.append(timed([*batch, "--merge-per-unit", "--out", str(merged)], env)[:2])
    wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
    rows.append((f"hnce certificate batch --merge-per-unit, {args.jobs} jobs", f"{n / wall:.0f} pages/s",
                 f"{n} pages in {len(list(merged.rglob('*.pdf')))} unit files, median of {len(runs)} {wall:.1f} s "
                 f"(min {min(w for w, _ in runs):.1f} s); CPU {cpu:.1f} s = {n / (cpu / 2):.0f} pages/s if 2 cores "
                 f"were free, {n / (cpu / 2) / MERGED_FLOOR:.2f}x the floor ({MERGED_FLOOR} pages/s)"))


LOCAL = 12  # people printing their own certificate locally: one warm-up, then 11 timed pairs


def on_demand_cases(setup: dict, env: dict[str, str], work: Path, rows: list[tuple[str, str, str]]) -> None:
    """One person's `hnce certificate --year 2025` as a whole process, local then remote.

    Locally each person prints twice: the first issue (a change: the certificate and its
    audit row written through the SQLModel write path) and a reprint (the certificate is
    recorded and still true: a read, the January case once the province's batch has run).
    Each print is paired with the engine's own floor for the same name: a bare `python -c`
    that imports the certificate engine (fpdf2), draws that person's page and subsets the
    font into it, as the print does (ONE_SCRIPT, the same font cache, warmed for the name by
    an untimed run first, so both find it alike). Within a person the runs take turns,
    alternating which goes first, so the ratios hold however the machine drifts."""
    runs = []
    people = zip(setup["people"][:LOCAL], setup["names"][:LOCAL], setup["person_tokens"][:LOCAL], strict=True)
    floor_env = {**env, "PYTHONPATH": os.pathsep.join(sys.path)}
    for i, (num, name, token) in enumerate(people):
        def floor(name: str = name, num: str = num) -> tuple[float, float]:
            return timed([sys.executable, "-c", ONE_SCRIPT, name, str(work / f"floor-{num}.pdf")], floor_env)[:2]

        def cli(num: str = num, token: str = token) -> tuple[float, float]:
            return timed([*hnce(), "certificate", "--year", "2025", "-o", str(work / f"{num}.pdf")],
                         {**env, "HNCE_TOKEN": token})[:2]

        floor()  # the name's glyphs cut and cached first, so both runs find the same cache
        if i % 2:  # in turn, so neither side always runs second
            first, fl1, reprint, fl2 = cli(), floor(), cli(), floor()
        else:
            fl1, first, fl2, reprint = floor(), cli(), floor(), cli()
        if i:  # the first person warms the bytecode and the engine's metrics
            runs.append(((first, fl1), (reprint, fl2)))
    for label, which in (("first issue", 0), ("reprint", 1)):
        pairs = [r[which] for r in runs]
        walls = [c[0] for c, _ in pairs]
        floors = [f[0] for _, f in pairs]
        ratio = statistics.median(c[0] / f[0] for c, f in pairs)
        rows.append((f"hnce certificate --year 2025 ({label})", f"{statistics.median(walls):.2f} s",
                     f"local mode: median of {len(walls)} people after a first (min {min(walls):.2f} s; "
                     f"CPU {statistics.median(c[1] for c, _ in pairs):.2f} s; load {load()})"))
        rows.append(("  its floor: the engine alone, the same name", f"{statistics.median(floors):.2f} s",
                     f"median of {len(floors)}, each paired with a print and run in turn with it"))
        rows.append((f"  {label} / floor (target <= 1.3x)", f"{ratio:.2f}x", "median of the pairwise ratios"))
    remote_case(setup, env, work, rows)


def load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def _server_cpu(pid: int) -> float:
    """CPU seconds of `hnce serve` and its children so far (Linux /proc)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


def remote_case(setup: dict, env: dict[str, str], work: Path, rows: list[tuple[str, str, str]]) -> None:
    """One certificate on demand in remote mode: a whole `hnce certificate` process against a running
    `hnce serve` (one worker, on the same SQLite database and font cache), which issues and draws the
    PDF; the CLI only writes the bytes. The first print is the warm-up (the server loads fpdf2 and
    the font's metrics); then each print is a new person's first issue."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {k: v for k, v in env.items() if k != "HNCE_TOKEN"}
    server = subprocess.Popen([*hnce(), "serve", "--port", str(port), "--workers", "1"], env=server_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("hnce serve did not start") from None
                time.sleep(0.2)
        cli_env = {k: v for k, v in env.items() if k != "HNCE_DATABASE_URL"}
        cli_env["HNCE_API_URL"] = base
        runs = []
        for num, token in zip(setup["people"][LOCAL:], setup["person_tokens"][LOCAL:], strict=True):
            before = _server_cpu(server.pid)
            wall, cpu, _ = timed([*hnce(), "certificate", "--year", "2025", "-o", str(work / f"remote-{num}.pdf")],
                                 {**cli_env, "HNCE_TOKEN": token})
            runs.append((wall, cpu, _server_cpu(server.pid) - before))
    finally:
        server.terminate()
        server.wait(15)
    warm, measured = runs[0], runs[1:]
    walls = [w for w, _, _ in measured]
    rows.append(("hnce certificate --year 2025, remote (hnce serve draws)", f"{statistics.median(walls):.2f} s",
                 f"median of {len(walls)} people after a warm-up print ({warm[0]:.2f} s) (min {min(walls):.2f} s; "
                 f"CLI CPU {statistics.median(c for _, c, _ in measured):.2f} s; server CPU "
                 f"{statistics.median(s for _, _, s in measured) * 1000:.0f} ms a print; load {load()})"))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine_cases(args: argparse.Namespace, work: Path, rows: list[tuple[str, str, str]]) -> None:
    """The engine alone, in this process and its workers (no database)."""
    from hnce_cli.certificates import load_key, load_template, prepare_batch_font, write_many

    template = load_template()
    datas = make_datas(args.people, load_key())

    t = time.perf_counter()
    font = prepare_batch_font(datas, template)
    prep = time.perf_counter() - t
    rows.append(("batch font subset (cold cache)", f"{prep:.2f} s",
                 f"{len(font.chars)} characters, {font.regular.stat().st_size / 1024:.0f} KiB"))

    single = work / "single"
    shutil.rmtree(single, ignore_errors=True)
    single.mkdir()
    jobs = [(str(single / f"{d.certificate_number}.pdf"), d) for d in datas]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    pool = mp.get_context("fork").Pool(args.jobs, initializer=_init_worker, initargs=(font,))
    for _ in pool.imap_unordered(_write, jobs, chunksize=16):
        pass
    pool.close()
    pool.join()
    elapsed = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    sizes = [p.stat().st_size for p in single.iterdir()]
    rows.append((f"single files, {args.jobs} processes", f"{len(jobs) / elapsed:.1f} files/s",
                 f"{len(jobs)} files in {elapsed:.1f} s, median {statistics.median(sizes) / 1024:.0f} KiB each; "
                 f"{cpu * 1000 / len(jobs):.0f} ms CPU a file = {len(jobs) / cpu * args.jobs:.0f} files/s "
                 f"if {args.jobs} cores were free"))

    t, c = time.perf_counter(), time.process_time()
    merged = write_many(work / "merged.pdf", datas, template, font)
    elapsed, cpu = time.perf_counter() - t, time.process_time() - c
    rows.append(("one merged PDF", f"{len(datas) / elapsed:.0f} pages/s",
                 f"{len(datas)} pages in {elapsed:.1f} s, {merged.stat().st_size / 2**20:.1f} MiB; "
                 f"{len(datas) / cpu:.0f} pages per CPU-second"))

    one = work / "one.pdf"
    cold = one_process("司马懿", one)
    rows.append(("one certificate, whole process, cold font cache", f"{cold:.2f} s", "subset cut from the 17 MB font"))
    CPU_LOG.clear()
    hits = [one_process("司马懿", one) for _ in range(3)]
    rows.append(("one certificate, whole process, its subset cached", f"{statistics.median(hits):.2f} s",
                 f"median of 3 (min {min(hits):.2f} s; CPU {statistics.median(CPU_LOG):.2f} s)"))
    if not args.skip_base:
        from hnce_cli.certificates import warm_base

        t = time.perf_counter()
        warm_base(template.weights[:1])
        rows.append(("building the GB 2312 base subset (once)", f"{time.perf_counter() - t:.1f} s", "6,763 hanzi"))
        names = ["诸葛亮", "欧阳修", "上官婉儿", "东方朔", "令狐冲"]
        CPU_LOG.clear()
        runs = [one_process(name, one) for name in names]
        rows.append(("one certificate, whole process, warm base, new name", f"{statistics.median(runs):.2f} s",
                     f"median of {len(runs)} people (min {min(runs):.2f} s; CPU {statistics.median(CPU_LOG):.2f} s)"))



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument("--keep-cache", action="store_true", help="use the normal font cache instead of a fresh one")
    parser.add_argument("--skip-base", action="store_true", help="do not build the GB 2312 base (takes ~15-30 s)")
    parser.add_argument("--only-cli", action="store_true", help="only the whole-process `hnce certificate` cases")
    parser.add_argument("--skip-cli", action="store_true", help="only the engine cases")
    parser.add_argument("--only-on-demand", action="store_true",
                        help="with --only-cli: only one person's print, local and remote (no batches)")
    parser.add_argument("--merged-runs", type=int, default=3, help="runs of the merged batch (median and min)")
    args = parser.parse_args()
    start_load = ", ".join(f"{v:.1f}" for v in os.getloadavg())

    work = Path(args.out or tempfile.mkdtemp(prefix="hnce-cert-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.keep_cache:
        os.environ["HNCE_CERT_FONT_CACHE"] = str(work / "fontcache")
    os.environ.setdefault("HNCE_CERT_KEY", "bench-key-not-secret-0123456789abcdef")

    rows: list[tuple[str, str, str]] = []
    if not args.only_cli:
        engine_cases(args, work, rows)
    if not args.skip_cli:
        cli_cases(args, work, rows)

    width = max(len(r[0]) for r in rows)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\ncertificates bench: {args.people} people, {args.jobs} jobs, {os.cpu_count()} CPUs, "
          f"load average at the start {start_load}, at the end {load}, output in {work}")
    print("targets: >= 40 single files/s on 2 cores, >= 200 merged pages/s, one certificate on demand <= 0.6 s")
    print(f"{'what':<{width}}  {'result':>14}  notes")
    for what, result, note in rows:
        print(f"{what:<{width}}  {result:>14}  {note}")


if __name__ == "__main__":
    main()
