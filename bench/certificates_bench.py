"""Benchmark of the certificate engine: 2,000 certificates, single files and merged, and one on demand.

    python bench/certificates_bench.py [--people 2000] [--jobs 2] [--out DIR] [--keep-cache]

Measures (wall clock, on whatever else this machine is doing):
  * preparing the batch's font subset from the 17 MB Noto Sans SC variable font (cold cache),
  * one PDF file per person with N worker processes (multiprocessing),
  * one merged PDF with a page per person,
  * one certificate as a whole `python -c` process: with a cold font cache, with its
    character set already cached, and with the warm GB 2312 base (a new person each time).
Floors from the issue (fpdf2, this machine): about 6 files/s per core from the full CJK font,
22 files/s on 2 cores with a pre-subset font, 230 pages/s merged.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument("--keep-cache", action="store_true", help="use the normal font cache instead of a fresh one")
    parser.add_argument("--skip-base", action="store_true", help="do not build the GB 2312 base (takes ~15-30 s)")
    args = parser.parse_args()

    work = Path(args.out or tempfile.mkdtemp(prefix="hnce-cert-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if not args.keep_cache:
        os.environ["HNCE_CERT_FONT_CACHE"] = str(work / "fontcache")
    os.environ.setdefault("HNCE_CERT_KEY", "bench-key-not-secret-0123456789abcdef")

    from hnce_cli.certificates import load_key, load_template, prepare_batch_font, write_many

    rows: list[tuple[str, str, str]] = []
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

    width = max(len(r[0]) for r in rows)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\ncertificates bench: {args.people} people, {args.jobs} jobs, {os.cpu_count()} CPUs, "
          f"load average at the end {load}, output in {work}")
    print(f"{'what':<{width}}  {'result':>14}  notes")
    for what, result, note in rows:
        print(f"{what:<{width}}  {result:>14}  {note}")


if __name__ == "__main__":
    main()
