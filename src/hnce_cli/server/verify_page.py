"""The certificate verify pages (证书查验) a person opens in a phone's browser.

A certificate says it can be checked by its verification code or its QR code: the QR
code opens GET /verify/CODE (when the deployment has HNCE_CERT_VERIFY_URL set), and
GET /verify is the page to type the code printed under it. Both are small Chinese pages
that fit a phone's width with no external assets (a verifier may be on a poor mobile
connection, and the page must not load anything from elsewhere).

A browser (Accept: text/html) is answered in HTML, errors included — a mistyped code is
a Chinese page that names the mistake and keeps the form, never raw JSON; any other
caller gets the JSON the API gives (the result's schema, or the one error shape). The
pages show exactly what the JSON answer holds (never more than the certificate prints:
the ID number masked); every value is shown as stored — control and invisible
characters escaped (a U+202E in a name would otherwise show a different name) — and
HTML-escaped.
"""

import logging
import re
from collections.abc import Callable, Coroutine
from html import escape
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from hnce_cli.errors import FieldProblem, HnceError, NotFound, ValidationFailed, server_internal_error
from hnce_cli.schemas import CertificateVerification
from hnce_cli.text import visible

if TYPE_CHECKING:
    from hnce_cli.backend.local import LocalBackend

logger = logging.getLogger("uvicorn.error")

COLOURS = {"genuine": "#1a7f37", "revoked": "#b35900", "altered": "#b42318", "unknown": "#b42318"}
MAX_CODE = 200  # as the API's /verify/{code}: a code is 35 characters, a scanned URL a little more
EXAMPLE = "HN2025-00000123-XXXX-XXXX-XXXX-XXXX"
FIX = "请核对证书上印的验证码（在二维码下方），或用手机扫描证书上的二维码"
# A code goes into the result page's address as it is only when it cannot be read as
# anything else there (no slash, dot segment, query or fragment); anything else is
# answered in place, where the service's own words say what is wrong with it.
_URL_SAFE = re.compile(rf"[0-9A-Za-z-]{{1,{MAX_CODE}}}")

# A phone first: 16 px inputs (smaller ones make iOS zoom in), long codes and unit names
# wrap instead of widening the page, one column.
STYLE = """*{box-sizing:border-box}
body{margin:0;padding:1em;background:#f4f6f8;color:#1f2328;line-height:1.5;
font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
main{max-width:34em;margin:0 auto;background:#fff;border-radius:8px;padding:1em 1.2em;
box-shadow:0 1px 3px rgba(0,0,0,.12);overflow-wrap:anywhere;word-break:break-word}
h1{font-size:1.4em;margin:.3em 0}
table{width:100%;border-collapse:collapse;margin:.8em 0}
th,td{padding:.35em 0;border-bottom:1px solid #eaeef2;vertical-align:top;text-align:left}
th{width:5.5em;padding-right:.8em;color:#59636e;font-weight:normal;white-space:nowrap}
td{word-break:break-all}
label{display:block;margin:.8em 0 .3em;font-weight:bold}
input{width:100%;font-size:16px;padding:.6em;border:1px solid #8c959f;border-radius:6px;
font-family:ui-monospace,Menlo,Consolas,monospace}
button{width:100%;margin-top:.8em;font-size:16px;padding:.7em;border:0;border-radius:6px;
background:#0969da;color:#fff}
.fix,small,.note{color:#59636e}
.problem{color:#b42318}
a{color:#0969da}"""


def _credits(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _shown(value: str) -> str:
    return escape(visible(value))


def _page(title: str, body: str, colour: str = "#1f2328") -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)}</title>
<style>{STYLE}
h1{{color:{colour}}}</style>
</head><body><main>
{body}
</main></body></html>
"""


def _form(action: str, code: str = "", problem: str = "") -> str:
    """The code field and its button: a GET form, so the result has an address of its own."""
    said = f'<p class="problem" id="problem">{problem}</p>\n' if problem else ""
    return f"""<form method="get" action="{escape(action)}">
<label for="code">验证码</label>
{said}<input id="code" name="code" value="{_shown(code)}" placeholder="{EXAMPLE}" maxlength="{MAX_CODE}"
 autocomplete="off" autocapitalize="characters" autocorrect="off" spellcheck="false" required>
<button type="submit">查验</button>
</form>"""


def render_form(code: str = "", problem: str = "", action: str = "verify") -> str:
    """GET /verify: the page to type a certificate's verification code."""
    return _page("证书查验", f"""<h1>证书查验</h1>
<p>输入年度证书上印的验证码（在二维码下方），查验证书是否真实有效。用手机扫描证书上的二维码也可直接查验。</p>
{_form(action, code, problem)}
<p class="note"><small>只显示证书上印有的内容，身份证号部分隐藏。</small></p>""")


def render_html(result: CertificateVerification, back: str = "../verify") -> str:
    """GET /verify/CODE: genuine, altered, revoked or unknown, with what the certificate prints."""
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
    return _page(f"证书查验：{result.status_label}", f"""<h1>{escape(result.status_label)}</h1>
<p>{_shown(result.message)}</p>
<table>
{table}
</table>
<p><small>验证码：{_shown(result.verification_code)}</small></p>
<p><a href="{escape(back)}">查验其他证书</a></p>""", COLOURS[result.status])


HEADINGS = {422: "验证码格式不正确", 404: "没有这个页面", 503: "暂时无法查验，请稍后再试"}


def render_error(error: HnceError, code: str = "", action: str = "../verify") -> str:
    """An error as a page: what is wrong in the platform's words, how to fix it, and the form
    again with what was typed (a typo is corrected where it was made)."""
    heading = HEADINGS.get(error.http_status, "查验出错")
    problems = getattr(error, "problems", None) or [FieldProblem("", error.message, None)]
    said = "\n".join(
        f'<p class="problem">{_shown(p.message)}</p>'
        + (f'\n<p class="fix">{_shown(p.fix)}</p>' if p.fix else "") for p in problems)
    return _page(f"证书查验：{heading}", f"""<h1>{escape(heading)}</h1>
{said}
{_form(action, code)}""", "#b42318")


def wants_html(request: Request) -> bool:
    """A browser asks for text/html first; scripts, curl and the API clients do not."""
    return "text/html" in request.headers.get("accept", "")


def _as_error(exc: Exception) -> HnceError:
    if isinstance(exc, HnceError):
        if exc.http_status != 500:
            return exc
        logger.error("internal error", exc_info=exc)
        return server_internal_error(exc)
    if isinstance(exc, RequestValidationError):  # the path's bounds: a code far too long
        return ValidationFailed.one("code", f"不是有效的验证码：超过 {MAX_CODE} 个字符 (not a verification code: "
                                            f"longer than {MAX_CODE} characters)", FIX)
    logger.error("internal error", exc_info=exc)
    return server_internal_error(exc)


class PageRoute(APIRoute):
    """A verify route: for a browser, any error of it — the service's, the path's bounds, a
    bug — is an HTML page with the same status; for anyone else it goes on to the app's
    handlers, which answer in the one JSON error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_or_error(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # the browser's top-level handler: every error a page, bugs logged
                if not wants_html(request):
                    raise
                error = _as_error(exc)
                code = request.query_params.get("code") or request.path_params.get("code") or ""
                return _html(render_error(error, code, form_address(request)), error.http_status)

        return page_or_error


def form_address(request: Request) -> str:
    """The form's address relative to this page (/verify/CODE: ../verify), so that the pages
    work under whatever path prefix a reverse proxy gives them."""
    rest = request.url.path.split("/verify", 1)[-1]
    return "../" * rest.count("/") + "verify"


def _html(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="text/html; charset=utf-8")


def add_verify_pages(app: Any, public: Any) -> None:
    """GET /verify (the form), GET /verify/{code} (the result, what the QR code opens) and, for
    a browser, a Chinese 404 page for anything else under /verify/. `public` is the app's
    dependency giving a LocalBackend with no credentials."""
    router = APIRouter(route_class=PageRoute)

    @router.get("/verify", include_in_schema=False)
    def verify_form(request: Request, b: public,  # type: ignore[valid-type]
                    code: Annotated[str | None, Query()] = None) -> Response:
        """The form; submitted (?code=…), the result's own address /verify/CODE."""
        if code is None:
            return _html(render_form())
        typed = re.sub(r"\s+", "", code)
        if "/" in typed:  # a whole verify URL pasted: the code is its last path segment
            typed = typed.rstrip("/").rsplit("/", 1)[-1]
        if not typed:
            if wants_html(request):
                return _html(render_form(problem="请输入证书上的验证码（enter the verification code）"), 422)
            raise ValidationFailed.one("code", "请输入验证码 (enter the verification code)", FIX)
        if _URL_SAFE.fullmatch(typed):
            return Response(status_code=303, headers={"Location": f"verify/{quote(typed, safe='')}"})
        return _answer(request, b, code)  # not a code: said in place, in the service's words

    @router.get("/verify/{code}", response_model=CertificateVerification,
                responses={200: {"content": {"text/html": {}}}})
    def verify_page(code: Annotated[str, Path(min_length=1, max_length=MAX_CODE)], request: Request,
                    b: public) -> Response:  # type: ignore[valid-type]
        """What the QR code opens: a small page for a browser, JSON for everyone else."""
        return _answer(request, b, code)

    @router.get("/verify/{rest:path}", include_in_schema=False)
    def no_page(rest: str, request: Request) -> Response:
        """Anything else under /verify/ (a QR URL with a segment too many): not a page; /verify/
        itself (a base URL typed with its slash) is the form."""
        if not rest:
            return _html(render_form(action=form_address(request)))
        raise NotFound(f"没有这个页面 (no such page): {request.url.path}；证书查验页是 /verify，"
                       "二维码打开的是 /verify/验证码 (a certificate is verified at /verify/CODE)",
                       {"method": request.method, "path": request.url.path})

    app.include_router(router)


def _answer(request: Request, b: "LocalBackend", code: str) -> Response:
    result = b.verify_certificate(code)
    if wants_html(request):
        return _html(render_html(result, form_address(request)))
    return Response(result.model_dump_json(), media_type="application/json")
