"""The operations table: every backend method that crosses the network, once.

Each `Operation` says how one method of the Backend protocol travels over HTTP: its verb
and path, whether it needs a login, which arguments go in the path, the query or the JSON
body, and what comes back. The HTTP routes of `hnce serve` (server/app.py) and the
remote client (backend/remote.py) are both built from this table, so a new backend
method is one row here (docs/architecture.md, "How to add a command").

Plain data and typing objects only: the CLI reads it without loading FastAPI or httpx.
Types of results and bodies are named (classes of hnce_cli.schemas), not imported.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, NamedTuple

from annotated_types import Ge, Le

API = "/api/v1"
REQUIRED: Any = ...  # a parameter without a default
MAX_ID = 2_147_483_647  # the largest id the database holds
YEAR = {"ge": 2000, "le": 2100}
Id = Annotated[int, Ge(1), Le(MAX_ID)]  # an id the database can hold


class Param(NamedTuple):
    """A path or query parameter: its HTTP name, the method argument it fills (`model.field`
    for a field of an argument that is a query model), its type, default and bounds."""

    name: str
    arg: str
    type: Any = str | None
    default: Any = None
    bounds: tuple[tuple[str, Any], ...] = ()

    def limits(self) -> dict[str, Any]:
        return dict(self.bounds)


class Body(NamedTuple):
    """The JSON body: either one argument whole (`arg`), or a model whose fields are
    several arguments (`fields`, e.g. a login's login and password). `model` names the
    schema ("Any": any JSON, checked by the service)."""

    model: str
    arg: str | None = None
    fields: tuple[str, ...] = ()
    description: str | None = None


class Operation(NamedTuple):
    name: str  # the Backend method
    method: str
    path: str  # under API, with {path parameters}
    result: str  # a schema's name, "list[Name]", or "None"
    public: bool = False  # anyone, no login (registering, finding a unit, verifying)
    params: tuple[Param, ...] = ()
    body: Body | None = None
    models: tuple[tuple[str, str], ...] = ()  # arguments assembled from query parameters: (arg, schema)
    status: int = 200
    raw: bool = False  # a large result: serialised once, not validated again on its way out
    page: str | None = None  # the list a paged read collects when `limit` is None (a client loops)
    inline: bool = False  # answered on the server's event loop (short, bounded, the hottest route)
    summary: str = ""
    service: str = ""  # "module:function" in hnce_cli.services that LocalBackend runs: f(db, [actor,] *args)
    write: bool = False  # a change: one writer's transaction (SQLite: BEGIN IMMEDIATE)
    client: bool = False  # the service is told the caller's address (client=…): logins are throttled by it

    @property
    def route(self) -> str:
        return API + self.path


def _p(name: str, arg: str | None = None, type_: Any = str | None, default: Any = None, **bounds: Any) -> Param:
    return Param(name, arg or name, type_, default, tuple(bounds.items()))


_PAGE = (_p("limit", "limit", int, 100, ge=1, le=1000), _p("offset", "offset", int, 0, ge=0))
_COMPLETION = (
    _p("year", "query.year", int | None, None, **YEAR), _p("unit", "query.unit"), _p("region", "query.region"),
    _p("result", "query.result", max_length=20, description="passed 通过 | not_passed 未通过"),
    _p("person", "query.person", max_length=64, description="refused: a list is not a person's view"),
)

OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    # The hottest route (support's 状态查询) first: requests are matched in order.
    Operation("lookup", "GET", "/professionals/lookup", "LookupResult", inline=True,
              params=(_p("q", "query", str, REQUIRED, min_length=1),), summary="Look a professional up",
              service="lookup:lookup"),
    Operation("login", "POST", "/auth/login", "LoginResult", public=True,
              body=Body("LoginRequest", fields=("login", "password")), service="accounts:login", write=True,
              client=True),
    Operation("logout", "POST", "/auth/logout", "LoggedOut"),
    Operation("whoami", "GET", "/auth/whoami", "AccountOut", service="accounts:whoami"),
    Operation("create_account", "POST", "/accounts", "AccountOut", body=Body("AccountInput", "data"), status=201,
              service="accounts:create_account", write=True),
    Operation("login_locks", "GET", "/accounts/locks", "LoginLocks",
              params=(_p("limit", "limit", int, 100, ge=1, le=1000),),
              summary="Logins and addresses made to wait after wrong passwords (system admin)",
              service="throttle:locks"),
    Operation("unlock_login", "POST", "/accounts/locks/unlock", "Unlocked",
              body=Body("UnlockRequest", fields=("login", "client")),
              summary="Forget a login's wrong passwords, from every address or one (system admin)",
              service="throttle:unlock", write=True),
    Operation("list_regions", "GET", "/regions", "list[RegionOut]", public=True,
              params=(_p("level"), _p("parent")), service="units:list_regions"),
    Operation("add_unit", "POST", "/units", "UnitOut", body=Body("UnitInput", "data"), status=201,
              service="units:add_unit", write=True),
    Operation("import_units", "POST", "/units/import", "UnitImportResult", body=Body("list[UnitInput]", "rows"),
              status=201, service="units:import_units", write=True),
    Operation("search_units", "GET", "/units/search", "UnitSearchResult", public=True,
              params=(_p("q", "query", str, REQUIRED), _p("region")), service="units:search_units"),
    Operation("show_unit", "GET", "/units/{unit}", "UnitOut", public=True, params=(_p("unit", type_=str),),
              service="units:show_unit"),
    Operation("register", "POST", "/registrations", "ProfessionalOut", public=True,
              body=Body("RegistrationInput", "data"), status=201, service="registration:register", write=True),
    Operation("list_pending", "GET", "/registrations/pending", "PendingList", page="registrations",
              params=(_p("unit", "request.unit"), _p("registered_from", "request.registered_from", date | None),
                      _p("registered_to", "request.registered_to", date | None), *_PAGE),
              models=(("request", "RegistrationQuery"),), service="registration:list_pending"),
    Operation("decide", "POST", "/registrations/decisions", "DecisionResult", raw=True,
              body=Body("DecisionRequest", "request"), service="review:decide_registrations", write=True),
    Operation("inbox", "GET", "/inbox", "Inbox", params=(_p("limit", "limit", int, 5, ge=0, le=100),),
              summary="Everything awaiting the caller's decision", service="review:inbox"),
    Operation("awaiting", "GET", "/reviews/{kind}", "InboxQueue",
              params=(_p("kind", type_=str), *_PAGE), summary="One workflow's queue for the caller",
              service="review:awaiting"),
    Operation("review", "POST", "/reviews/{kind}", "Any", raw=True, params=(_p("kind", type_=str),),
              body=Body("Any", "request", description="the workflow's request (DecisionRequest, ReviewRequest)"),
              summary="Decide items of any review workflow", service="review:decide_any", write=True),
    Operation("list_forms", "GET", "/forms", "FormsOut", service="forms:show"),
    Operation("load_forms", "PUT", "/forms", "FormsOut", body=Body(
        "Any", "data", description='the forms file: a list of forms or {"forms": [...]} (docs/declarations.md)'),
              service="forms:load", write=True),
    Operation("create_declaration", "POST", "/declarations", "DeclarationOut",
              body=Body("DeclarationInput", "data"), status=201, service="declarations:create", write=True),
    Operation("list_declarations", "GET", "/declarations", "DeclarationList", page="declarations",
              params=(_p("filter", "query.filter", Literal["all", "draft", "pending", "approved", "rejected"], "all"),
                      _p("person", "query.person"), _p("unit", "query.unit"),
                      _p("year", "query.year", int | None, None, **YEAR), _p("form", "query.form"),
                      _p("awaiting_review", "query.awaiting_review", bool, False),
                      _p("ids", "query.ids", list[Id] | None, None, max_length=1000), *_PAGE),
              models=(("query", "DeclarationQuery"),), service="declarations:list_declarations"),
    Operation("review_declarations", "POST", "/declarations/reviews", "ReviewResult", raw=True,
              body=Body("ReviewRequest", "request"), service="review:decide_declarations", write=True),
    Operation("import_declarations", "POST", "/declarations/import", "DeclarationImportResult",
              body=Body("DeclarationImportRequest", fields=("rows",)), status=201,
              service="declarations:import_rows", write=True),
    Operation("declaration_attachments", "POST", "/declarations/attachments/export", "AttachmentBundle",
              body=Body("DeclarationQuery", "query"), service="declarations:attachment_bundle"),
    Operation("show_declaration", "GET", "/declarations/{declaration_id}", "DeclarationOut",
              params=(_p("declaration_id", type_=int, ge=1, le=MAX_ID),), service="declarations:show"),
    Operation("edit_declaration", "PATCH", "/declarations/{declaration_id}", "DeclarationOut",
              params=(_p("declaration_id", type_=int, ge=1, le=MAX_ID),), body=Body("DeclarationEdit", "data"),
              service="declarations:edit", write=True),
    Operation("delete_declaration", "DELETE", "/declarations/{declaration_id}", "DeclarationDeleted",
              params=(_p("declaration_id", type_=int, ge=1, le=MAX_ID),),
              service="declarations:delete_draft", write=True),
    Operation("submit_declaration", "POST", "/declarations/{declaration_id}/submit", "DeclarationOut",
              params=(_p("declaration_id", type_=int, ge=1, le=MAX_ID),), service="declarations:submit", write=True),
    Operation("withdraw_declaration", "POST", "/declarations/{declaration_id}/withdraw", "DeclarationOut",
              params=(_p("declaration_id", type_=int, ge=1, le=MAX_ID),), service="declarations:withdraw", write=True),
    Operation("issue_certificate", "POST", "/certificates", "CertificateOut",
              body=Body("CertificateRequest", "request"), service="certificates:issue", write=True),
    Operation("issue_certificates", "POST", "/certificates/batch", "CertificatePage",
              body=Body("CertificateBatchRequest", "request"), service="certificates:batch", write=True),
    Operation("revoke_certificate", "POST", "/certificates/{number}/revoke", "CertificateOut",
              params=(_p("number", type_=str, min_length=1, max_length=32),),
              body=Body("CertificateRevokeRequest", fields=("reason",)), service="certificates:revoke", write=True),
    Operation("verify_certificate", "GET", "/verify/{code}", "CertificateVerification", public=True,
              params=(_p("code", type_=str, min_length=1, max_length=200),), service="certificates:verify"),
    Operation("show_rules", "GET", "/rules", "RulesOut", params=(_p("year", "year", int | None, None, **YEAR),),
              service="rules:show"),
    Operation("load_rules", "PUT", "/rules", "RulesOut", body=Body(
        "Any", "data", description='one year\'s object, a list of them, or {"years": [...]} (docs/completion.md)'),
              service="rules:load", write=True),
    Operation("person_completion", "GET", "/completion/person", "PersonCompletion",
              params=(_p("person", "person", min_length=1, max_length=64,
                         description="ID number, mobile or name; omit for yourself"),
                      _p("year", "year", int | None, None, **YEAR), _p("details", "details", bool, False)),
              service="completion:person_view"),
    Operation("completion_page", "GET", "/completion", "CompletionPage", raw=True,
              params=(*_COMPLETION, _p("after", "after", int | None, None, ge=0, le=MAX_ID),
                      _p("limit", "limit", int, 1000, ge=1, le=5000)),
              models=(("query", "CompletionQuery"),), service="completion:page"),
    Operation("completion_summary", "GET", "/completion/summary", "CompletionSummary",
              params=(*_COMPLETION, _p("by", "by", str, "city", max_length=20,
                                       description="city 市 | county 区县 | unit 单位")),
              models=(("query", "CompletionQuery"),), service="completion:summary"),
    # Checked before its one transaction, and streamed by the CLI: LocalBackend and the remote
    # client write it out (POST /sync/import/stream takes the rows as lines of JSON).
    Operation("import_credits", "POST", "/sync/import", "SyncImportResult",
              body=Body("SyncImportRequest", fields=("rows", "source", "first_row"))),
    Operation("check_text", "GET", "/checks/text", "TextCheck",
              params=(_p("limit", "limit", int, 1000, ge=1, le=100_000),),
              summary="Stored values that break the text policy (system admin)", service="checks:text_check"),
    Operation("export_credits", "GET", "/sync/export", "CreditExportPage", raw=True,
              params=(_p("year", "year", int, REQUIRED, **YEAR),
                      _p("after", "after", int | None, None, ge=0, le=MAX_ID),
                      _p("limit", "limit", int, 10_000, ge=1, le=50_000)), service="sync:export_page"),
)}

def resolve(name: str) -> Any:
    """The type a row names: a schema, `list[schema]`, or Any (any JSON)."""
    if name in ("Any", "None"):
        return Any
    if name.startswith("list[") and name.endswith("]"):
        return list[resolve(name[5:-1])]  # type: ignore[misc]
    from hnce_cli import schemas

    return getattr(schemas, name)


# Methods of the Backend protocol that do not travel as one request: what runs only next to
# the database, and what a client composes of other operations or sends specially.
LOCAL_ONLY = {"db_upgrade": "数据库迁移须在服务器上执行：hnce --db URL db upgrade "
                            "(migrations run on the server host, see docs/deploy.md)",
              "db_init": "初始化须在服务器上执行：hnce --db URL db init (run on the server host, see docs/deploy.md)"}
COMPOSED = ("completion_list", "certificate_pdf")
