"""`hnce demo`: a sample province in a fresh database (units, admins and professionals in
every registration state, built through the same backend every command uses), and a
guided first tour."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hnce_cli.backend.local import LocalBackend
from hnce_cli.commands._common import JsonOpt
from hnce_cli.invocation import invocation
from hnce_cli.schemas import AccountInput, DecisionRequest, RegistrationInput, RegistrationQuery, UnitInput
from hnce_cli.validation import id_check_char, uscc_check_char

if TYPE_CHECKING:
    from hnce_cli.invocation import Invocation

DEMO_PASSWORD = "Demo@2025"  # sample accounts only; printed so a newcomer can log in

UNITS = [
    ("河南中原会计师事务所有限公司", "410105"),
    ("郑州市金水区人民医院", "410105"),
    ("郑州宇通客车股份有限公司", "410171"),
    ("河南省财政厅", "410000-ZS"),
    ("郑州市财政局", "410100-ZS"),
    ("洛阳栾川钼业集团股份有限公司", "410324"),
    ("开封市鼓楼区审计局", "410204"),
    ("新乡市牧野区第一中学", "410711"),
    ("南阳市卧龙区农业农村局", "411303"),
    ("信阳毛尖茶业有限公司", "411502"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
         "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "晓东", "雪梅", "子涵", "浩然",
         "欣怡", "梓萱", "一诺"]
TITLES = [None, "助理会计师", "会计师", "高级会计师"]
# Real names the platform must keep whole: a CJK Extension A character, a minority name
# with its middle dot. The first approved people of the demo get them.
RARE_NAMES = ["王䶮", "买买提·艾力"]


def demo(
    ctx: typer.Context,
    db_url: Annotated[str | None, typer.Option(
        "--db", help="Where to build it (default: demo.db in the data directory).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Build a realistic sample province and walk through approving and looking up.

    Creates a fresh demo database and a `demo` profile pointing at it, so you
    can try every command afterwards with `hnce -p demo ...`.

    Example: hnce demo
    """
    run_demo(invocation(ctx), db_url, as_json=json_)


def make_id_number(rng: random.Random, area: str, birth: date, male: bool) -> str:
    last = rng.choice("13579" if male else "02468")  # odd order code = male
    first17 = f"{area}{birth:%Y%m%d}{rng.randrange(0, 100):02d}{last}"
    return first17 + id_check_char(first17)


def make_uscc(rng: random.Random, area: str) -> str:
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(rng.choice(charset) for _ in range(9))
    first17 = f"91{area}{body}"
    return first17 + uscc_check_char(first17)


def demo_path(run: Invocation) -> Path:
    from hnce_cli.settings import data_dir

    return data_dir(run.env) / "demo.db"


def build(backend: LocalBackend, rng: random.Random) -> dict:
    """Populate a fresh database; returns what was made (for the tour and --json)."""
    backend.db_upgrade()
    backend.db_init("admin", "省级系统管理员", DEMO_PASSWORD)
    backend.token = backend.login("admin", DEMO_PASSWORD).token
    units = []
    for name, region in UNITS:
        area = region[:6] if region[:6] != "410000" else "410000"
        units.append(backend.add_unit(UnitInput(name=name, uscc=make_uscc(rng, area),
                                                region=region)))
    temp = backend.search_units("金水区财政局").units[0]
    admins = [
        AccountInput(login="zhongyuan-admin", name="赵会计", role="unit_admin",
                     password=DEMO_PASSWORD, units=[str(units[0].id)]),
        AccountInput(login="hospital-admin", name="钱主任", role="unit_admin",
                     password=DEMO_PASSWORD, units=[str(units[1].id)]),
        AccountInput(login="jinshui-czj", name="孙科长", role="unit_admin",
                     password=DEMO_PASSWORD, units=[str(temp.id)]),
        AccountInput(login="kefu01", name="客服小李", role="support", password=DEMO_PASSWORD),
        AccountInput(login="hr-zhengzhou", name="郑州人社周老师", role="hr",
                     password=DEMO_PASSWORD, region="410100"),
    ]
    for account in admins:
        backend.create_account(account)
    people = []
    targets = [(units[0], 14), (units[1], 8), (units[2], 5), (units[5], 4), (units[8], 3)]
    for unit, count in targets:
        for _ in range(count):
            people.append(_person(rng, unit_id=str(unit.id), area=unit.region_code[:6]))
    for _ in range(4):
        people.append(_person(rng, region="410105", area="410105"))
    for person, rare in zip(people, RARE_NAMES, strict=False):
        person.name = rare
    for person in people:
        backend.register(person)
    # Some were decided long ago: approve and reject a few through the admins.
    backend.token = backend.login("zhongyuan-admin", DEMO_PASSWORD).token
    zy = [p.id_number for p in people[:14]]
    backend.decide(DecisionRequest(decision="approve", id_numbers=zy[:6]))
    backend.decide(DecisionRequest(decision="reject", id_numbers=zy[6:7],
                                   reason="所填单位与实际工作单位不符"))
    backend.token = backend.login("hospital-admin", DEMO_PASSWORD).token
    backend.decide(DecisionRequest(decision="approve", id_numbers=[p.id_number
                                                                   for p in people[14:18]]))
    backend.token = backend.login("admin", DEMO_PASSWORD).token
    year = _last_year_credits(backend, rng, people[:6])
    return {"units": len(units) + 1, "admins": len(admins) + 1, "professionals": len(people),
            "zhongyuan_ids": zy, "sample_name": people[8].name, "people": people, "passed_year": year}


def _last_year_credits(backend: LocalBackend, rng: random.Random, approved: list[RegistrationInput]) -> int:
    """Last year's credits of the unit's approved people, as the national platform's file
    brings them (sync import): all but the last pass (≥ 30 公需科目, ≥ 60 专业科目), so
    `hnce -p demo certificate batch --year …` has certificates to make right away."""
    from hnce_cli import clock

    year = clock.today().year - 1
    rows = []
    for n, person in enumerate(approved):
        public = 24 if n == len(approved) - 1 else rng.choice([30, 32, 36])
        for subject, credits in (("公需科目", public), ("专业科目", 40), ("专业科目", rng.choice([20, 24, 30]))):
            rows.append({"身份证号": person.id_number, "姓名": person.name, "年度": str(year), "科目类型": subject,
                         "学时": str(credits), "记录编号": f"N-{year}-{len(rows) + 1:07d}",
                         "完成日期": f"{year}-{rng.randrange(3, 12):02d}-{rng.randrange(1, 28):02d}"})
    backend.import_credits(rows)
    return year


def _person(rng: random.Random, *, area: str, unit_id: str | None = None,
            region: str | None = None) -> RegistrationInput:
    male = rng.random() < 0.45
    birth = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
    number = make_id_number(rng, area if area.isdigit() and area != "410000" else "410105",
                            birth, male)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return RegistrationInput(
        id_number=number, password=DEMO_PASSWORD,
        mobile=f"1{rng.choice('35789')}{rng.randrange(0, 10**9):09d}",
        email=f"user{rng.randrange(10**5, 10**6)}@example.cn", name=name,
        has_employer=unit_id is not None, unit=unit_id, region=region,
        department=rng.choice(["财务部", "计划财务处", "审计科", "会计核算中心", None]),
        ethnicity=rng.choice(["汉族"] * 9 + ["回族"]), native_place="河南" + rng.choice(
            ["郑州", "洛阳", "开封", "南阳", "信阳"]),
        school=rng.choice(["河南财经政法大学", "郑州大学", "河南大学", "郑州航空工业管理学院"]),
        major=rng.choice(["会计学", "财务管理", "审计学", "金融学"]),
        title=rng.choice(TITLES),
    )


def run_demo(run: Invocation, db_url: str | None, *, as_json: bool) -> None:
    from hnce_cli.commands._decisions import render_batch
    from hnce_cli.commands.approve import _show_pending
    from hnce_cli.commands.status import show_person
    from hnce_cli.render import print_json, stdout_console
    from hnce_cli.settings import Profile
    from hnce_cli.workflows import REGISTRATION

    if db_url is None:
        path = demo_path(run)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{path}"
    backend = LocalBackend(db_url)
    rng = random.Random(2025)
    made = build(backend, rng)
    store = run.profiles
    admin_login = backend.login("zhongyuan-admin", DEMO_PASSWORD)
    store.profiles["demo"] = Profile("demo", db=db_url, token=admin_login.token,
                                     login="zhongyuan-admin")
    # A second profile for the support role, so the lookup step can be re-run as shown.
    kefu_login = backend.login("kefu01", DEMO_PASSWORD)
    store.profiles["demo-kefu"] = Profile("demo-kefu", db=db_url, token=kefu_login.token,
                                          login="kefu01")
    store.save()
    backend.token = admin_login.token
    if as_json:
        print_json({"database": backend.description, "profile": "demo",
                    "units": made["units"], "admin_accounts": made["admins"],
                    "professionals": made["professionals"], "password": DEMO_PASSWORD,
                    "logged_in_as": "zhongyuan-admin", "passed_year": made["passed_year"],
                    "profiles": {"demo": "zhongyuan-admin", "demo-kefu": "kefu01"},
                    "sample_name": made["sample_name"]})
        return
    console = stdout_console()

    def step(title: str, command: str) -> None:
        console.rule(f"[bold]{title}")
        console.print(f"[dim]$ {command}[/]", soft_wrap=True)  # a command is copied whole: never wrapped

    console.print(f"[bold green]演示数据已建立[/]：{made['units']} 个单位（含临时管理单位"
                  f"示例）、{made['admins']} 个管理账号、{made['professionals']} 名专业技术人员。")
    console.print(f"数据库：{backend.description}；演示账号密码均为 [bold]{DEMO_PASSWORD}[/]"
                  "（仅限演示库）。")
    step("1. 用人单位管理员（赵会计）查看本单位待审核注册", "hnce -p demo approve --list")
    pending = backend.list_pending(RegistrationQuery())
    _show_pending(pending, "table")
    ids = [p.id_number for p in pending.registrations]
    step("2. 批量审核通过三人", f"hnce -p demo approve {' '.join(ids[:3])} --yes")
    render_batch(backend.decide(DecisionRequest(decision="approve", id_numbers=ids[:3])), REGISTRATION, "table")
    step("3. 再运行一次：无重复效果", f"hnce -p demo approve {ids[0]} --yes")
    render_batch(backend.decide(DecisionRequest(decision="approve", id_numbers=ids[:1])), REGISTRATION, "table")
    step("4. 审核不通过须填写原因", f"hnce -p demo approve {ids[3]} --reject --reason 信息不全 --yes")
    render_batch(backend.decide(DecisionRequest(decision="reject", id_numbers=ids[3:4], reason="信息不全")),
                 REGISTRATION, "table")
    step("5. 其余全部：先预览", "hnce -p demo approve --all --dry-run")
    render_batch(backend.decide(DecisionRequest(decision="approve", all_matching=True, dry_run=True)),
                 REGISTRATION, "table")
    backend.token = kefu_login.token
    step("6. 客服（demo-kefu 配置，客服小李）按身份证号查人（个人信息脱敏）",
         f"hnce -p demo-kefu status {ids[0]}")
    show_person(backend.lookup(ids[0]).matches[0])
    console.rule("[bold]接下来")
    console.print("自己试试（demo 配置以赵会计身份登录，demo-kefu 配置以客服小李身份登录）：\n"
                  "  hnce -p demo approve --all --yes\n"
                  f"  hnce -p demo completion --all --year {made['passed_year']}\n"
                  f"  hnce -p demo certificate batch --year {made['passed_year']} --unit {UNITS[0][0]} --out 证书\n"
                  f"  hnce -p demo-kefu status {made['sample_name']}\n"
                  "  hnce -p demo whoami\n"
                  "  hnce --help", soft_wrap=True)
