"""The small HTML page a phone shows after scanning a certificate's QR code.

It shows exactly what the JSON answer holds (never more than the certificate
prints: the ID number masked); every value is shown as stored — control and invisible
characters escaped (a U+202E in a name would otherwise show a different name) — and
HTML-escaped.
"""

from __future__ import annotations

from html import escape

from hnce_cli.schemas import CertificateVerification
from hnce_cli.text import visible

COLOURS = {"genuine": "#1a7f37", "revoked": "#b35900", "altered": "#b42318", "unknown": "#b42318"}


def _credits(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _shown(value: str) -> str:
    return escape(visible(value))


def render_html(result: CertificateVerification) -> str:
    rows: list[tuple[str, str]] = [("证书编号", result.certificate_number)]
    if result.name is not None:
        rows += [
            ("姓名", result.name), ("身份证号", result.id_number_masked or ""),
            ("工作单位", result.unit_name or ""), ("年度", str(result.year)),
            ("公需科目", _credits(result.public_credits)), ("专业科目", _credits(result.professional_credits)),
            ("合计", _credits(result.total_credits)),
            ("发证日期", result.issue_date.isoformat() if result.issue_date else ""),
        ]
    if result.status == "revoked":
        rows += [("撤销原因", result.revoke_reason or "")]
    table = "\n".join(f"<tr><th>{escape(k)}</th><td>{_shown(v)}</td></tr>" for k, v in rows)
    colour = COLOURS[result.status]
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>证书查验：{escape(result.status_label)}</title>
<style>body{{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}}
h1{{color:{colour};font-size:1.4em}}th{{text-align:left;padding-right:1em;white-space:nowrap}}</style>
</head><body>
<h1>{escape(result.status_label)}</h1>
<p>{_shown(result.message)}</p>
<table>
{table}
</table>
<p><small>验证码：{_shown(result.verification_code)}</small></p>
</body></html>
"""
