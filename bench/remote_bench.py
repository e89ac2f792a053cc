"""Remote-mode benchmark (run on demand, not in CI).

1. Status look-ups through `hnce serve` (--workers 2, PostgreSQL behind it) from a
   second process on loopback, random ID numbers among 1,000,000 professionals, as
   support (masked results). Target: >= 500 look-ups/s with p99 <= 50 ms at 20
   concurrent clients. Measured two ways:
   (i) saturation: wrk (or, without wrk, an asyncio httpx client in a subprocess),
       20 connections, closed loop, no think time: the most the server answers, and
       the latency of a queue 20 deep;
   (ii) the target as stated: 20 clients together sending --rates look-ups/s (500)
       on a fixed schedule (open loop: each client sends every 20/rate s whether or
       not its last answer came back late), latency counted from the scheduled send
       time, so a stall is not hidden (no coordinated omission).
2. Batch approval of 100,000 registrations of one unit, `hnce approve --file ids.txt
   --yes --json`, through the API against the same command in local mode on the same
   PostgreSQL database, runs interleaved. Target: API <= 2x local (median wall time).

For each measurement it prints wall time, CPU time (user+sys) of the processes that did
the work (server workers, CLI, load generator, PostgreSQL backends) and the load average,
because on a shared machine wall time alone misleads.

Usage:
  python bench/remote_bench.py                       # full run (seeding 1.1M rows: ~2 min)
  python bench/remote_bench.py --reuse               # keep the seeded database from last time
  python bench/remote_bench.py --people 100000 --batch 20000 --seconds 10 --runs 2   # quick
  python bench/remote_bench.py --only lookups        # or: --only approve
  python bench/remote_bench.py --reuse --only lookups --repeat 3 --rates 500,800
  python bench/remote_bench.py --reuse --only lookups --server-src /tmp/old/src  # an older tree
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if sys.argv[1:2] not in (["--paced-generator"], ["--load-generator"]):
    # The load generators run in a process of their own: they import none of this.
    import psycopg

    from hnce_cli.backend.local import LocalBackend
    from hnce_cli.schemas import AccountInput, UnitInput
    from hnce_cli.services.security import hash_password
    from hnce_cli.validation import id_check_char, uscc_check_char

PASSWORD = "Bench2025pw"
DB_NAME = "hnce_bench_remote"
HNCE = shutil.which("hnce") or sys.exit("install hnce first (pip install -e .)")
TICK = os.sysconf("SC_CLK_TCK")


# --- measuring -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds) of a process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICK


def _all_procs() -> dict[int, tuple[int, str, float]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))):
            out[int(entry)] = stat
    return out


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and all its live descendants."""
    procs = _all_procs()
    family, total = {root}, 0.0
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in family and pid not in family:
                family.add(pid)
                changed = True
    for pid in family:
        if pid in procs:
            total += procs[pid][2]
    return total


def postgres_cpu() -> float:
    """CPU seconds of every live PostgreSQL process (includes other users' work)."""
    return sum(cpu for _, name, cpu in _all_procs().values() if name.startswith("postgres"))


def backends_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the bench database
    (the server's connections; not other users' work, not a process that exits)."""
    with connect(url) as conn:
        pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                               "AND pid <> pg_backend_pid()", (DB_NAME,))]
    return {pid: stat[2] for pid in pids if (stat := _proc_stat(pid))}


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --- seeding ---------------------------------------------------------------------


def id_number(seq: int) -> str:
    birth = f"{1960 + seq % 40}{1 + seq % 12:02d}{1 + seq % 28:02d}"
    first17 = f"4101{seq // 1000 % 100:02d}{birth}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


def uscc(seed_char: str) -> str:
    first17 = f"91410105MA44BENC{seed_char}"
    return first17 + uscc_check_char(first17)


def database_url(admin_url: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + DB_NAME


def connect(url: str) -> psycopg.Connection:
    """A plain psycopg connection in autocommit (setup and checks; hnce has its own)."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def drop_database(admin_url: str) -> None:
    with connect(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def seeded(url: str, people: int, batch: int) -> bool:
    """Whether the database already holds this seed (for --reuse)."""
    try:
        with connect(url) as conn:
            counts = dict(conn.execute(
                "SELECT u.name, count(*) FROM professional p JOIN unit u ON u.id = p.unit_id "
                "GROUP BY u.name").fetchall())
    except psycopg.Error:  # no database or no tables: not seeded
        return False
    return counts == {"基准测试单位甲": people, "基准测试单位乙": batch}


def seed(admin_url: str, url: str, people: int, batch: int) -> None:
    """Accounts through the services; professionals by COPY (as an import would)."""
    drop_database(admin_url)
    with connect(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    b = LocalBackend(url)
    b.db_upgrade()
    b.db_init("admin", "管理员", PASSWORD)
    b.token = b.login("admin", PASSWORD).token
    approved_unit = b.add_unit(UnitInput(name="基准测试单位甲", uscc=uscc("1"), region="410105"))
    batch_unit = b.add_unit(UnitInput(name="基准测试单位乙", uscc=uscc("2"), region="410105"))
    b.create_account(AccountInput(login="kefu", name="客服", role="support", password=PASSWORD))
    b.create_account(AccountInput(login="unit-admin", name="单位管理员", role="unit_admin",
                                  password=PASSWORD, units=[str(batch_unit.id)]))
    pw_hash = hash_password(PASSWORD)
    numbers = [id_number(i) for i in range(people + batch)]
    with psycopg.connect(url) as conn:
        start = conn.execute("select coalesce(max(id), 0) + 1 from account").fetchone()[0]
        with conn.cursor() as cur:
            with cur.copy("COPY account (id, login, password_hash, role, name, active, "
                          "failed_logins, created_at) FROM STDIN") as copy:
                for i, number in enumerate(numbers):
                    copy.write_row((start + i, number, pw_hash, "professional", "测试",
                                    True, 0, "2025-03-01 00:00:00+00"))
            with cur.copy("COPY professional (account_id, id_number, name, gender, birth_date, "
                          "mobile, email, unit_id, status, registered_at) FROM STDIN") as copy:
                for i, number in enumerate(numbers):
                    pending = i >= people
                    copy.write_row((
                        start + i, number, f"测试{i % 5000}", "男" if int(number[16]) % 2 else "女",
                        f"{number[6:10]}-{number[10:12]}-{number[12:14]}", f"138{i:08d}",
                        "x@example.cn", batch_unit.id if pending else approved_unit.id,
                        "pending" if pending else "approved", "2025-03-01 00:00:00+00"))
            cur.execute("select setval('account_id_seq', (select max(id) from account))")
    vacuum(url)


def vacuum(url: str) -> None:
    with connect(url) as conn:
        conn.execute("VACUUM ANALYZE")


def batch_ids(url: str) -> tuple[list[str], list[str], int]:
    """(approved ID numbers, pending ID numbers, the batch unit's id)."""
    with connect(url) as conn:
        unit_id = conn.execute("SELECT id FROM unit WHERE name = '基准测试单位乙'").fetchone()[0]
        rows = conn.execute("SELECT id_number, unit_id FROM professional").fetchall()
    return ([n for n, u in rows if u != unit_id], [n for n, u in rows if u == unit_id], unit_id)


# --- the server ------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str], workers: int, src: str | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if src:  # another source tree (e.g. `git archive OLD src | tar -x`): before/after
            env = {**env, "PYTHONPATH": src}
        self.proc = subprocess.Popen([HNCE, "serve", "--port", str(self.port), "--workers",
                                      str(workers)], env=env)
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        sys.exit("hnce serve did not start")

    def cpu(self) -> float:
        return tree_cpu(self.proc.pid)

    def workers_cpu(self) -> dict[int, float]:
        """CPU seconds so far of each worker process (uvicorn's children)."""
        return {pid: cpu for pid, (ppid, _, cpu) in _all_procs().items() if ppid == self.proc.pid}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


# --- look-ups --------------------------------------------------------------------


def run_wrk(base: str, token: str, ids: list[str], seconds: int, connections: int,
            workdir: Path) -> dict:
    (workdir / "ids.txt").write_text("\n".join(ids))
    script = workdir / "lookup.lua"
    script.write_text(f"""
local ids = {{}}
for line in io.lines("{workdir / 'ids.txt'}") do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  return wrk.format("GET", "/api/v1/professionals/lookup?q=" .. ids[math.random(#ids)])
end
""")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", str(script), base], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"tool": "wrk", "requests": requests, "requests_per_s": rps, "p50_ms": ms("50"),
            "p90_ms": ms("90"), "p99_ms": ms("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else None}


async def _httpx_load(base: str, token: str, ids: list[str], seconds: float,
                      connections: int) -> dict:
    import httpx

    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < end:
                start = time.perf_counter()
                response = await client.get("/api/v1/professionals/lookup",
                                            params={"q": random.choice(ids)})
                latencies.append(time.perf_counter() - start)
                failures += response.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {"tool": "httpx", "requests": len(latencies), "requests_per_s": len(latencies) / elapsed,
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "non_2xx": failures,
            "socket_errors": None}


class _Desk(asyncio.Protocol):
    """One paced client on one keep-alive connection: a request at each scheduled time,
    or as soon as its previous answer is in when that came late (one at a time, as a
    desk works). Latency runs from the scheduled time, so lateness is not hidden."""

    def __init__(self, token: str, ids: list[str], rng: random.Random, out: dict) -> None:
        self.head = f" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        self.ids, self.rng, self.out = ids, rng, out
        self.backlog: collections.deque[float] = collections.deque()
        self.busy = False
        self.buffer = bytearray()
        self.scheduled = self.sent = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def due(self, scheduled: float) -> None:
        if self.busy:
            self.backlog.append(scheduled)
        else:
            self._send(scheduled)
            self.out["lag"].append(self.sent - scheduled)  # the generator's own lateness

    def _send(self, scheduled: float) -> None:
        self.busy, self.scheduled, self.sent = True, scheduled, time.perf_counter()
        path = "GET /api/v1/professionals/lookup?q=" + self.rng.choice(self.ids)
        self.transport.write((path + self.head).encode())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = int(re.search(rb"(?i)content-length: *(\d+)", self.buffer[:end]).group(1))
        if len(self.buffer) < end + 4 + length:
            return
        done = time.perf_counter()
        self.out["latency"].append(done - self.scheduled)
        self.out["service"].append(done - self.sent)
        self.out["failures"] += not self.buffer.startswith(b"HTTP/1.1 200")
        del self.buffer[:end + 4 + length]
        self.busy = False
        if self.backlog:
            self._send(self.backlog.popleft())
        elif self.out["pending"] == 0 and not any(d.busy or d.backlog for d in self.out["desks"]):
            self.out["finished"].set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.out["finished"].done():
            self.out["finished"].set_exception(exc)


async def _paced_load(port: int, token: str, ids: list[str], seconds: float, connections: int,
                      rate: float, start_at: float, seed: int) -> dict:
    """Open loop at a fixed arrival rate: `connections` keep-alive clients, each sending a
    look-up every connections/rate seconds on its own (staggered) schedule, from the
    wall-clock time `start_at` on. Plain HTTP/1.1 over asyncio protocols, ~0.2 ms of CPU
    a request, so the generator takes little from the server. Returns the raw latencies
    (ms) for the parent to merge."""
    loop = asyncio.get_running_loop()
    out: dict = {"latency": [], "service": [], "lag": [], "failures": 0, "pending": 0, "desks": [],
                 "finished": loop.create_future()}
    rng = random.Random(seed)
    opened = await asyncio.gather(*(loop.create_connection(lambda: _Desk(token, ids, rng, out),
                                                           "127.0.0.1", port)
                                    for _ in range(connections)))
    out["desks"] = [desk for _, desk in opened]
    interval = connections / rate
    ahead = start_at - time.time()
    start_loop, start_perf = loop.time() + ahead, time.perf_counter() + ahead

    def fire(desk: _Desk, offset: float) -> None:
        out["pending"] -= 1
        desk.due(start_perf + offset)

    for k, desk in enumerate(out["desks"]):
        n = 0
        while (offset := (k / connections + n) * interval) < seconds:
            loop.call_at(start_loop + offset, fire, desk, offset)
            out["pending"] += 1
            n += 1
    cpu = time.process_time()
    await out["finished"]
    elapsed, cpu = time.perf_counter() - start_perf, time.process_time() - cpu
    for desk in out["desks"]:
        desk.transport.close()
    return {"latency": [round(x * 1000, 3) for x in out["latency"]],
            "service": [round(x * 1000, 3) for x in out["service"]],
            "lag": [round(x * 1000, 3) for x in out["lag"]],
            "failures": out["failures"], "elapsed": elapsed, "cpu": cpu}


def run_paced(base: str, token: str, ids: list[str], seconds: int, connections: int,
              workdir: Path, rate: float, processes: int = 2) -> dict:
    """The paced clients in `processes` processes (as wrk runs 2 threads): from one
    process, whose connections all arrive at once, one worker accepted nearly all of
    them; it also halves each process's share of the schedule."""
    (workdir / "ids.txt").write_text("\n".join(ids))
    port = base.rsplit(":", 1)[1]
    start_at = time.time() + 2.0  # after each process has started and connected
    procs = [subprocess.Popen([sys.executable, __file__, "--paced-generator", port, token,
                               str(workdir / "ids.txt"), str(seconds),
                               str(connections // processes + (i < connections % processes)),
                               str(rate / connections * (connections // processes + (i < connections % processes))),
                               str(start_at), str(i)], stdout=subprocess.PIPE, text=True)
             for i in range(processes)]
    parts = [json.loads(proc.communicate()[0]) for proc in procs]
    latencies = sorted(x for part in parts for x in part["latency"])
    service = sorted(x for part in parts for x in part["service"])
    lag = sorted(x for part in parts for x in part["lag"])

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p / 100 * len(values)))]

    return {"tool": "paced", "rate": rate, "requests": len(latencies),
            "requests_per_s": len(latencies) / max(part["elapsed"] for part in parts),
            "p50_ms": pct(latencies, 50), "p90_ms": pct(latencies, 90), "p99_ms": pct(latencies, 99),
            "max_ms": latencies[-1], "service_p50_ms": pct(service, 50), "service_p99_ms": pct(service, 99),
            "generator_lag_p99_ms": pct(lag, 99),
            "generator_cpu_ms_per_request": sum(part["cpu"] for part in parts) * 1000 / len(latencies),
            "non_2xx": sum(part["failures"] for part in parts), "socket_errors": None}


def run_httpx(base: str, token: str, ids: list[str], seconds: int, connections: int,
              workdir: Path) -> dict:
    """The fallback load generator, in a process of its own (as wrk would be)."""
    (workdir / "ids.txt").write_text("\n".join(ids))
    out = subprocess.run([sys.executable, __file__, "--load-generator", base, token,
                          str(workdir / "ids.txt"), str(seconds), str(connections)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _measured(server: Server, run: Callable[[], dict], args: argparse.Namespace) -> dict:
    """One load run with the CPU of the server, PostgreSQL and the generator around it."""
    backends, workers = backends_cpu(args.db_url), server.workers_cpu()
    load_before, cpu_server, cpu_pg, cpu_gen = load(), server.cpu(), postgres_cpu(), children_cpu()
    result = run()
    result.update({
        "connections": args.connections, "seconds": args.seconds, "workers": args.workers,
        "server_cpu_s": server.cpu() - cpu_server,
        "postgres_cpu_s": cpu_since(backends, backends_cpu(args.db_url)),
        "all_postgres_cpu_s": postgres_cpu() - cpu_pg,
        "worker_cpu_s": sorted((round(cpu - workers.get(pid, 0.0), 2)
                                for pid, cpu in server.workers_cpu().items()), reverse=True),
        "generator_cpu_s": children_cpu() - cpu_gen, "load_before": load_before,
        "load_after": load()})
    requests = max(1, result["requests"])
    result["server_cpu_ms_per_request"] = result["server_cpu_s"] * 1000 / requests
    result["postgres_cpu_ms_per_request"] = result["postgres_cpu_s"] * 1000 / requests
    print(f"  {result['tool']:>6}{'' if 'rate' not in result else ' @' + format(result['rate'], '.0f')}: "
          f"{result['requests_per_s']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 "
          f"{result['p99_ms']:.1f} ms, server CPU {result['server_cpu_ms_per_request']:.2f} ms/req "
          f"(workers {result['worker_cpu_s']} s), "
          f"load {load_before} -> {result['load_after']}", file=sys.stderr)
    return result


def bench_lookups(server: Server, token: str, ids: list[str], args: argparse.Namespace,
                  workdir: Path) -> dict:
    import httpx

    sample = random.Random(1).sample(ids, min(len(ids), 20000))
    check = httpx.get(f"{server.base}/api/v1/professionals/lookup", params={"q": sample[0]},
                      headers={"Authorization": f"Bearer {token}"})
    match = check.json()["matches"][0]
    assert check.status_code == 200 and match["masked"] and "*" in match["id_number"], check.text
    if args.httpx:
        generate = run_httpx
    elif shutil.which("wrk"):
        generate = run_wrk
    else:
        print("wrk is not installed: the saturation runs (i) use the httpx load generator instead, whose "
              "own CPU competes with the server for the cores (apt-get install -y wrk for wrk's figures)",
              file=sys.stderr)
        generate = run_httpx
    generate(server.base, token, sample, 3, args.connections, workdir)  # warm-up
    rates = [float(r) for r in args.rates.split(",") if r]
    saturation, paced = [], {rate: [] for rate in rates}
    for _ in range(args.repeat):  # interleaved, so that a busy spell hits both alike
        saturation.append(_measured(server, lambda: generate(
            server.base, token, sample, args.seconds, args.connections, workdir), args))
        for rate in rates:
            paced[rate].append(_measured(server, lambda rate=rate: run_paced(
                server.base, token, sample, args.seconds, args.connections, workdir, rate), args))
    return {"saturation": saturation, "paced": {str(int(r)): runs for r, runs in paced.items()}}


# --- approval --------------------------------------------------------------------


def reset_batch(url: str, unit_id: int) -> None:
    with connect(url) as conn:
        conn.execute("UPDATE professional SET status='pending', decided_at=NULL, "
                     "decided_by=NULL WHERE unit_id=%s", (unit_id,))
        conn.execute("DELETE FROM audit_log WHERE action='registration.approve'")
        conn.execute("VACUUM ANALYZE professional")
        conn.execute("VACUUM ANALYZE audit_log")


def approve_once(env: dict, ids_file: Path, expected: int, url: str, unit_id: int,
                 server: Server | None) -> dict:
    reset_batch(url, unit_id)
    load_before, cpu_cli = load(), children_cpu()
    cpu_server, cpu_pg = (server.cpu() if server else 0.0), postgres_cpu()
    start = time.perf_counter()
    done = subprocess.run([HNCE, "approve", "--file", str(ids_file), "--yes", "--json"],
                          env=env, capture_output=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"approve failed ({done.returncode}): {done.stderr.decode()[:500]}")
    counts = json.loads(done.stdout)["counts"]
    assert counts.get("approved") == expected, counts
    return {"wall_s": wall, "cli_cpu_s": children_cpu() - cpu_cli,
            "server_cpu_s": (server.cpu() - cpu_server) if server else 0.0,
            "postgres_cpu_s": postgres_cpu() - cpu_pg, "load_before": load_before}


def bench_approve(server: Server, env: dict, token: str, ids: list[str], url: str, unit_id: int,
                  runs: int, workdir: Path) -> dict:
    ids_file = workdir / "batch.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    local_env = {**env, "HNCE_TOKEN": token}
    remote_env = {k: v for k, v in local_env.items() if k != "HNCE_DATABASE_URL"}
    remote_env["HNCE_API_URL"] = server.base
    local, remote = [], []
    for run in range(runs):  # interleaved, so that a busy spell hits both alike
        local.append(approve_once(local_env, ids_file, len(ids), url, unit_id, None))
        remote.append(approve_once(remote_env, ids_file, len(ids), url, unit_id, server))
        print(f"  approve run {run + 1}/{runs}: local {local[-1]['wall_s']:.2f} s, "
              f"API {remote[-1]['wall_s']:.2f} s", file=sys.stderr)

    def summary(rows: list[dict]) -> dict:
        return {k: {"median": statistics.median(r[k] for r in rows), "min": min(r[k] for r in rows)}
                for k in ("wall_s", "cli_cpu_s", "server_cpu_s", "postgres_cpu_s")} | {
            "load_before": [r["load_before"] for r in rows]}

    out = {"batch": len(ids), "runs": runs, "local": summary(local), "remote": summary(remote)}
    out["ratio_wall"] = out["remote"]["wall_s"]["median"] / out["local"]["wall_s"]["median"]
    ratios = [r["wall_s"] / lo["wall_s"] for lo, r in zip(local, remote, strict=True)]
    out["ratio_wall_median_of_pairs"] = statistics.median(ratios)
    cpu = [(r["cli_cpu_s"] + r["server_cpu_s"]) / lo["cli_cpu_s"] for lo, r in zip(local, remote,
                                                                                   strict=True)]
    out["ratio_cpu_median_of_pairs"] = statistics.median(cpu)
    return out


# --- main ------------------------------------------------------------------------


def print_summary(result: dict) -> None:
    lines = ["", "=== remote bench summary ===",
             f"machine: {os.cpu_count()} CPUs; load average at end {load()}"]
    if (lk := result.get("lookups")):
        first = lk["saturation"][0]
        lines.append(f"look-ups ({first['connections']} connections, {first['seconds']} s a run, "
                     f"{first['workers']} workers, {result['people']:,} people; each run, then the median):")

        def line(label: str, runs: list[dict]) -> str:
            med = {k: statistics.median(r[k] for r in runs) for k in (
                "requests_per_s", "p50_ms", "p99_ms", "server_cpu_ms_per_request",
                "postgres_cpu_ms_per_request")}
            each = ", ".join(f"{r['requests_per_s']:.0f}/s p99 {r['p99_ms']:.0f} ms (load {r['load_before']})"
                             for r in runs)
            return (f"  {label}: median {med['requests_per_s']:.0f} req/s, p50 {med['p50_ms']:.1f} ms, "
                    f"p99 {med['p99_ms']:.1f} ms; CPU a request: server {med['server_cpu_ms_per_request']:.2f} ms, "
                    f"postgres {med['postgres_cpu_ms_per_request']:.2f} ms; non-2xx "
                    f"{sum(r['non_2xx'] for r in runs)}\n    runs: {each}")

        lines.append(line(f"(i) saturation, {first['tool']} closed loop", lk["saturation"]))
        for rate, runs in lk["paced"].items():
            lines.append(line(f"(ii) paced at {rate}/s, open loop", runs))
        target = lk["paced"].get("500")
        if target:
            ok = all(r["requests_per_s"] >= 495 and r["p99_ms"] <= 50 and r["non_2xx"] == 0 for r in target)
            lines.append(f"  target (500 look-ups/s from 20 clients, p99 <= 50 ms), every paced run: "
                         f"{'MET' if ok else 'NOT MET'}")
    if (ap := result.get("approve")):
        lo, re_ = ap["local"], ap["remote"]
        lines += [
            f"approve {ap['batch']:,} (median of {ap['runs']} interleaved runs; min in brackets):",
            f"  local: {lo['wall_s']['median']:.2f} s ({lo['wall_s']['min']:.2f})  CPU cli "
            f"{lo['cli_cpu_s']['median']:.2f} s, postgres {lo['postgres_cpu_s']['median']:.2f} s",
            f"  API:   {re_['wall_s']['median']:.2f} s ({re_['wall_s']['min']:.2f})  CPU cli "
            f"{re_['cli_cpu_s']['median']:.2f} s + server {re_['server_cpu_s']['median']:.2f} s, "
            f"postgres {re_['postgres_cpu_s']['median']:.2f} s",
            f"  ratio API/local: wall {ap['ratio_wall']:.2f}x (median of pairs "
            f"{ap['ratio_wall_median_of_pairs']:.2f}x), CPU {ap['ratio_cpu_median_of_pairs']:.2f}x",
            f"  load before runs: local {lo['load_before']}, API {re_['load_before']}",
            f"  target API <= 2x local: {'MET' if ap['ratio_wall'] <= 2 else 'NOT MET'}"]
    print("\n".join(lines), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=os.environ.get(
        "HNCE_TEST_PG_URL", "postgresql://hnce:hnce@127.0.0.1:5432/postgres"))
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["lookups", "approve"])
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--httpx", action="store_true", help="use the httpx load generator")
    parser.add_argument("--rates", default="500",
                        help="paced runs: total look-ups/s of the clients, comma-separated ('' for none)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of saturation + paced runs")
    parser.add_argument("--server-src", help="run the server from this source tree (PYTHONPATH)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hnce-bench-"))
    url = args.db_url = database_url(args.admin_url)
    t0 = time.perf_counter()
    if args.reuse and seeded(url, args.people, args.batch):
        print("reusing the seeded database", file=sys.stderr)
    else:
        seed(args.admin_url, url, args.people, args.batch)
        print(f"seeded {args.people:,} approved + {args.batch:,} pending in "
              f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    people, pending, unit_id = batch_ids(url)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("HNCE_")},
           "HNCE_DATABASE_URL": url, "HNCE_CONFIG_DIR": str(work / "cfg"),
           "HNCE_DATA_DIR": str(work / "data")}
    local = LocalBackend(url)
    support_token = local.login("kefu", PASSWORD).token
    admin_token = local.login("unit-admin", PASSWORD).token
    server = Server(env, args.workers, args.server_src)
    result: dict = {"people": len(people), "batch": len(pending), "load_start": load()}
    try:
        if args.only in (None, "lookups"):
            result["lookups"] = bench_lookups(server, support_token, people, args, work)
        if args.only in (None, "approve"):
            result["approve"] = bench_approve(server, env, admin_token, pending, url, unit_id,
                                              args.runs, work)
    finally:
        server.stop()
        if not args.keep_db and not args.reuse:
            drop_database(args.admin_url)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print_summary(result)


if __name__ == "__main__":
    if len(sys.argv) == 10 and sys.argv[1] == "--paced-generator":
        _, _, port_, bearer, ids_path, secs, conns, rate_, start_, seed_ = sys.argv
        print(json.dumps(asyncio.run(_paced_load(int(port_), bearer, Path(ids_path).read_text().split(),
                                                 float(secs), int(conns), float(rate_), float(start_),
                                                 int(seed_)))))
    elif len(sys.argv) == 7 and sys.argv[1] == "--load-generator":
        _, _, base_url, bearer, ids_path, secs, conns = sys.argv
        print(json.dumps(asyncio.run(_httpx_load(
            base_url, bearer, Path(ids_path).read_text().split(), float(secs), int(conns)))))
    else:
        main()
