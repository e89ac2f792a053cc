"""`hnce certificate`: print a passed year's certificate (年度证书), verify, revoke, batch.

The backend issues and signs (where the key is: the server in remote mode). One print's
PDF is drawn by whoever runs the services: this process in local mode, `hnce serve` in
remote mode (so a remote desk never loads fpdf2); a batch's PDFs are drawn here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from hnce_cli.commands._common import JsonOpt, YesOpt, confirm, fmt, get_backend

if TYPE_CHECKING:
    from hnce_cli.schemas import CertificateOut, CertificateVerification


class _PrintByDefault(TyperGroup):
    """`hnce certificate PERSON --year Y` means `hnce certificate print PERSON --year Y`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["print", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_PrintByDefault,
    help="Certificates of a passed year (年度证书): print, verify, revoke, batch.\n\n"
         "`hnce certificate PERSON --year Y` is short for `hnce certificate print PERSON --year Y`.\n\n"
         "Example: hnce certificate 410105199001011233 --year 2025",
    no_args_is_help=True,
)

YearOpt = Annotated[int, typer.Option("--year", min=2000, max=2100, help="The year (年度), e.g. 2025.",
                                      show_default=False)]


def _credits(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@app.command("print")
def print_(
    ctx: typer.Context,
    person: Annotated[str | None, typer.Argument(
        help="ID number of the person (omit to print your own).", show_default=False)] = None,
    year: YearOpt = ...,  # type: ignore[assignment]
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="PDF file to write (default: NUMBER-NAME.pdf here).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Print the certificate of a passed year (通过) as an A4 PDF.

    Issued on first print and recorded; printing again gives the same number (and the
    same verification code while the credits are unchanged). Refused (exit 2) for a
    year that is not passed. The person themself, admins of their unit, HR of their
    region and system admins may print it.

    \b
    Examples:
      hnce certificate --year 2025
      hnce certificate 410105199001011233 --year 2025 -o 张三-2025.pdf
    """
    from hnce_cli.certificates.files import write_atomic
    from hnce_cli.certificates.model import file_name
    from hnce_cli.schemas import CertificateRequest

    # checked input (the year bounded by its option; the person is found by the service)
    cert, pdf = get_backend(ctx).certificate_pdf(CertificateRequest.model_construct(person=person, year=year))
    target = output or Path(file_name(cert.number, cert.name))
    write_atomic(target, pdf)
    _show_issued(cert, target, fmt(json_))
    if cert.verify_url is None:  # the issuing services' setting (the server's in remote mode)
        from hnce_cli.certificates.facts import NO_VERIFY_URL_PRINTED
        from hnce_cli.render import note

        note(NO_VERIFY_URL_PRINTED)


def _show_issued(cert: CertificateOut, target: Path, output: str) -> None:
    from hnce_cli.render import emit, note, print_details

    if output == "json":
        emit({"file": str(target), "certificate": cert.model_dump(mode="json")}, "json")
        return
    said = {"issued": "已签发", "unchanged": "已签发（与记录一致）",
            "reissued": "已重新签发（内容有变化，验证码已更新）"}
    print_details(f"{cert.year}年度证书 · {said.get(cert.outcome, cert.outcome)}", [
        ("证书编号", cert.number), ("姓名", cert.name), ("身份证号", cert.id_number_masked),
        ("工作单位", cert.unit_name), ("公需科目", _credits(cert.public_credits)),
        ("专业科目", _credits(cert.professional_credits)), ("合计", _credits(cert.total_credits)),
        ("认定结果", cert.result), ("发证日期", cert.issue_date), ("验证码", cert.verification_code),
    ])
    note(f"已写入 {target}")


@app.command("verify")
def verify(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The verification code printed on the certificate (or the QR URL).")],
    json_: JsonOpt = False,
) -> None:
    """Check a certificate: genuine (exit 0), or altered / revoked / unknown (exit 9).

    Anyone may verify; no login is needed. Only a genuine (or revoked) code shows the
    certificate's facts, as printed, with the ID number masked: compare them with the
    paper.

    Example: hnce certificate verify HN2025-00000123-7GQ2-M4XD-0K9P-3TRA
    """
    from hnce_cli.errors import ExitCode

    result = get_backend(ctx).verify_certificate(code)
    _show_verification(result, fmt(json_))
    raise typer.Exit(int(ExitCode.OK if result.status == "genuine" else ExitCode.NOT_GENUINE))


def _show_verification(r: CertificateVerification, output: str) -> None:
    from hnce_cli.render import emit, print_details

    pairs: list[tuple[str, Any]] = [("结果", r.status_label), ("说明", r.message), ("证书编号", r.certificate_number)]
    if r.name is not None:
        pairs += [("姓名", r.name), ("身份证号", r.id_number_masked), ("工作单位", r.unit_name), ("年度", r.year),
                  ("公需科目", _credits(r.public_credits)), ("专业科目", _credits(r.professional_credits)),
                  ("合计", _credits(r.total_credits)), ("发证日期", r.issue_date)]
    if r.status == "revoked":
        pairs += [("撤销时间", r.revoked_at), ("撤销原因", r.revoke_reason)]
    emit(r, output, details=lambda: print_details(f"证书查验 · {r.status_label}", pairs))


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Certificate number (证书编号), e.g. HN2025-00000123.")],
    reason: Annotated[str, typer.Option(help="Why (shown to whoever verifies it).", show_default=False)] = ...,  # type: ignore[assignment]
    yes: YesOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Revoke a certificate (system admin; HR in their region): verification then says so.

    Asks for confirmation on a terminal; scripts pass --yes. A second revoke is a
    conflict (exit 5) naming who revoked it first.

    Example: hnce certificate revoke HN2025-00000123 --reason "学分记录有误" --yes
    """
    from hnce_cli.render import emit, note

    if not confirm(ctx, f"撤销证书 {number}（原因：{reason}）？撤销后验证将显示“已撤销”。", yes):
        raise typer.Exit(1)
    cert = get_backend(ctx).revoke_certificate(number, reason)
    emit(cert, fmt(json_), details=lambda: note(f"已撤销证书 {cert.number}（{cert.name}，{cert.year}年度）：{reason}"))


@app.command("batch")
def batch(
    ctx: typer.Context,
    year: YearOpt = ...,  # type: ignore[assignment]
    out: Annotated[Path, typer.Option("--out", help="Folder for the PDFs and the manifest.",
                                      show_default=False)] = ...,  # type: ignore[assignment]
    unit: Annotated[str | None, typer.Option(help="One unit (id, USCC or full name).")] = None,
    region: Annotated[str | None, typer.Option(help="One region and everything under it (code or name).")] = None,
    province: Annotated[bool, typer.Option("--province", help="The whole province (system admin).")] = False,
    merge_per_unit: Annotated[bool, typer.Option(
        "--merge-per-unit", help="One merged PDF per unit (a page per person) instead of a file each.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Worker processes.")] = 1,
    name_template: Annotated[str | None, typer.Option(
        "--name-template", help="File path under --out; default "
        "{region}/{unit_name}/{year}-{id_number_masked}-{name}.pdf ({region}/{unit_name}-{year}.pdf merged). "
        "Also: {region_code} {unit_id} {number}.", show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Rewrite files that already exist and are up to date (a re-issued certificate's "
        "file is rewritten anyway).")] = False,
    json_: JsonOpt = False,
) -> None:
    """Certificates of everyone who passed a year in a unit, a region or the province.

    Only passed people (通过) get one. Resumable: files are written atomically and a
    rerun keeps files that still hold their certificate's current verification code,
    so an interrupted run continues where it stopped. A rerun also keeps the folder
    true: a re-issued certificate's file is rewritten, a revoked one is moved into
    已撤销/. Writes manifest.csv and manifest.json (number, person masked, code, file,
    status, error) into --out, also when stopped by Ctrl-C (exit 130) or SIGTERM
    (exit 143). Exit 0 when every file was written or already there, 7 if any failed
    (the manifest and the output say why). A progress bar goes to stderr.

    \b
    Examples:
      hnce certificate batch --year 2025 --unit 河南测试甲会计师事务所有限公司 --out ./证书
      hnce certificate batch --year 2025 --province --jobs 2 --out /srv/证书/2025
      hnce certificate batch --year 2025 --region 410100 --merge-per-unit --out ./按单位
    """
    from hnce_cli.certificates.batch import run
    from hnce_cli.errors import ExitCode
    from hnce_cli.schemas import CertificateBatchRequest

    request = CertificateBatchRequest(year=year, unit=unit, region=region, province=province)
    try:
        with _Progress() as progress:
            result = run(get_backend(ctx), request, out, merged=merge_per_unit, name_template=name_template,
                         jobs=jobs, force=force, progress=progress)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the root command says 已取消 and exits 130 / 143
        from hnce_cli.render import note

        if (out / "manifest.csv").is_file():
            note(f"已中断：{out / 'manifest.csv'} 列出文件夹中现有的证书文件；重新运行即可继续 "
                 "(interrupted: the manifest lists the files present; run again to continue)")
        raise
    _show_batch(result.summary, fmt(json_), result.files)
    raise typer.Exit(int(ExitCode.PARTIAL if result.failed else ExitCode.OK))


def _show_batch(summary: dict[str, Any], output: str, n_files: int) -> None:
    from hnce_cli.render import KEY, MAIN, Column, TableView, emit, print_table

    labels = {"written": "已生成", "rewritten": "已重写（证书已重新签发）", "existing": "已存在（未重写）",
              "failed": "失败", "revoked": "已撤销（未生成）", "conflict": "冲突", "pending": "未完成"}
    counts = summary["counts"]
    rows = [(labels.get(k, k), v) for k, v in counts.items()] + [("未通过（无证书）", summary["not_passed"])]
    emit(summary, output, TableView(
        title=f"{summary['year']}年度证书 · {summary['scope']} · {n_files} 个文件 → {summary['out']}",
        rows=rows, columns=[Column("结果", lambda r: r[0], priority=KEY),
                            Column("人数", lambda r: r[1], justify="right", priority=KEY)],
        footnotes=[f"清单：{summary['manifest']['csv']}"] + (
            [f"已撤销证书的文件移入 {summary['out']}/已撤销/：{summary['moved_aside']} 个"] if summary["moved_aside"]
            else []) + ([f"已删除过期副本：{summary['removed']} 个"] if summary["removed"] else [])))
    if summary["failed"] and output == "table":
        print_table(TableView(title="失败", rows=summary["failed"][:50], columns=[
            Column("证书编号", lambda f: f["number"], priority=KEY), Column("姓名", lambda f: f["name"], priority=KEY),
            Column("原因", lambda f: f["error"], priority=MAIN)]))


class _Progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise (cron logs)."""

    def __init__(self) -> None:
        self._bar = None
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from hnce_cli.render import stderr_console

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=stderr_console(), transient=False)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def add(self, description: str, total: int | None) -> int:
        return self._bar.add_task(description, total=total) if self._bar is not None else 0

    def advance(self, task: int, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(task, n)
