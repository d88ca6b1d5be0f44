"""The HTTP service: a JSON API under ``/v1``, a web page at ``/`` and ``/healthz``.

Uploads stay in memory for the length of one request (see :mod:`compliance.service.upload`),
are parsed and evaluated in bounded worker threads (:mod:`compliance.service.work`) and are
never logged: the access log records method, path without the query string, status and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hmac
import inspect
import logging
import re
import tempfile
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from compliance import DEFAULT_RULESETS
from compliance.errors import ComplianceError
from compliance.report.model import AuditReport, ValidationReport
from compliance.service.problems import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    Problem,
    ProblemError,
    from_compliance_error,
    invalid,
    problem_body,
    problem_response_spec,
)
from compliance.service.settings import Settings
from compliance.service.upload import FILE_FIELD, Upload, download_stem, read_upload
from compliance.service.work import DeadlineExceeded, ParseGate, check_workbook, timeout_problem
from compliance.version import __version__

log = logging.getLogger("compliance.service")
access_log = logging.getLogger("compliance.service.access")

STATIC_DIR = FilePath(__file__).resolve().parent / "static"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RULESET_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_RULESETS = 16
PUBLIC_PATHS = ("/healthz",)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

DESCRIPTION = """\
Validate and audit battery bill-of-materials workbooks (.xlsx) against sourcing rulesets.

* Uploads are `multipart/form-data` with the workbook in the `file` part. They are kept in
  memory for the length of the request only: never written to disk, never logged.
* Errors are RFC 9457 problem details (`application/problem+json`) whose `code` is the code the
  command line prints (`not-a-workbook`, `unsafe-workbook`, `ruleset-not-found`, ...).
* Limits (upload size, rows, cells, time, concurrent parses) are set by the operator; going past
  one gives 413, 422 (`unsafe-workbook`), 429, 503 or 504.
"""


# --------------------------------------------------------------------------------------------
# Response models (documentation and validation of the JSON answers)
# --------------------------------------------------------------------------------------------


class Health(BaseModel):
    status: str = Field(description="'ok' while the service answers")
    version: str


class RulesetInfo(BaseModel):
    id: str
    version: str
    sha256: str = Field(description="sha256 of the ruleset file's bytes")
    title: str
    summary: str
    jurisdiction: str
    last_reviewed: dt.date
    href: str = Field(description="where the full ruleset is served")
    default: bool = Field(description="applied when an audit names no ruleset")


class RulesetDetail(RulesetInfo):
    ruleset: dict[str, Any] = Field(
        description="the full ruleset, as `compliance rulesets show ID --format json` prints it")


class FormatInfo(BaseModel):
    name: str
    media_type: str
    extension: str


# --------------------------------------------------------------------------------------------
# Bundled rulesets
# --------------------------------------------------------------------------------------------


class Catalog:
    """Bundled rulesets only, by id: a client can never make the service open a path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}

    def ids(self) -> list[str]:
        from compliance.rules.loader import available

        return [p.name for p in available() if RULESET_ID.match(p.name)]

    def get(self, ruleset_id: str) -> Any:
        """The LoadedRuleset for a bundled id; RulesetError(ruleset-not-found) otherwise."""
        from compliance.errors import RulesetError
        from compliance.rules.loader import bundled_dir, load_ruleset

        if not RULESET_ID.match(ruleset_id) or ruleset_id not in self.ids():
            known = ", ".join(self.ids()) or "none"
            raise RulesetError(f"unknown ruleset '{ruleset_id}' (available: {known})",
                               code="ruleset-not-found")
        with self._lock:
            hit = self._loaded.get(ruleset_id)
        if hit is None:
            hit = load_ruleset(bundled_dir() / ruleset_id)
            with self._lock:
                self._loaded[ruleset_id] = hit
        return hit

    def info(self, ruleset_id: str) -> RulesetInfo:
        loaded = self.get(ruleset_id)
        rs = loaded.ruleset
        return RulesetInfo(id=rs.id, version=rs.version, sha256=loaded.sha256, title=rs.title,
                           summary=rs.summary, jurisdiction=rs.jurisdiction,
                           last_reviewed=rs.last_reviewed, href=f"/v1/rulesets/{ruleset_id}",
                           default=ruleset_id in DEFAULT_RULESETS)


# --------------------------------------------------------------------------------------------
# Middleware: token, access log, security headers, last-resort 500
# --------------------------------------------------------------------------------------------


def _is_shell(path: str) -> bool:
    """The page and its assets: no data, and useless without the API, which checks the token.
    They stay reachable so that the page can ask a person for the token."""
    return path == "/" or path.startswith("/static/")


def _problem_response(error: ProblemError, path: str | None) -> Response:
    headers = dict(error.headers)
    return Response(problem_body(error.problem(path)), status_code=error.status,
                    media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class ServiceMiddleware:
    """Outermost layer of every HTTP request (pure ASGI, so bodies stream untouched)."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.token = settings.token.encode("utf-8") if settings.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        started = time.perf_counter()
        state = {"status": 0, "sent": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["sent"] = True
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY"),
                         (b"content-security-policy", CSP.encode())]
                if not path.startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        try:
            denied = self._check_token(scope, path)
            if denied is not None:
                await denied(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Log where it failed, not the message: a message may quote the upload.
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("internal error %s on %s %s\n%s", type(exc).__name__, scope.get("method"),
                      path, frames)
            if not state["sent"]:
                error = ProblemError(500, "internal-error", "the service failed on this request; "
                                     "the operator has been told in the log")
                await _problem_response(error, path)(scope, receive, send_wrapper)
        finally:
            access_log.info('%s %s %s %.0fms', scope.get("method"), path, state["status"] or "-",
                            (time.perf_counter() - started) * 1000)

    def _check_token(self, scope: Scope, path: str) -> Response | None:
        if self.token is None or path in PUBLIC_PATHS or _is_shell(path):
            return None
        header = b""
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                header = value
                break
        scheme, _, presented = header.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(presented.strip(), self.token):
            return None
        challenge = 'Bearer realm="compliance"'
        if header:
            challenge += ', error="invalid_token"'
        error = ProblemError(401, "unauthorized",
                             "send the service's token as 'Authorization: Bearer <token>'"
                             if not header else "the bearer token is not valid",
                             headers={"WWW-Authenticate": challenge})
        return _problem_response(error, path)


# --------------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI app. ``settings`` default to the ``COMPLIANCE_*`` environment."""
    from compliance.report.render import FORMATS

    settings = settings or Settings.from_env()
    formats = dict(FORMATS)
    catalog = Catalog()
    gate = ParseGate(settings.max_parses, settings.max_queue)
    template_cache: dict[str, bytes] = {}

    kwargs: dict[str, Any] = {}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        # No spans, metrics or exception logs: they could carry request details.
        kwargs["telemetry"] = {"tracing": False, "metrics": False, "logs": False,
                               "operation_spans": False, "auto_configure": False}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        gate.shutdown()

    app = FastAPI(title="battery-compliance", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan,
                  generate_unique_id_function=lambda route: route.name, **kwargs)
    app.state.settings = settings
    app.state.gate = gate
    app.add_middleware(ServiceMiddleware, settings=settings)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # ---- error handlers ----------------------------------------------------------------

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        if exc.status >= 500 and exc.code != "timeout" and exc.code != "busy":
            log.error("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.detail)
        return _problem_response(exc, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not-found", 405: "method-not-allowed"}
        code = codes.get(exc.status_code, "invalid-request" if exc.status_code < 500
                         else "internal-error")
        detail = {404: f"nothing is served at {request.url.path}",
                  405: f"{request.method} is not allowed on {request.url.path}"}.get(
                      exc.status_code, str(exc.detail))
        headers = dict(exc.headers or {})
        return _problem_response(ProblemError(exc.status_code, code, detail, headers=headers),
                                 request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [FieldError(field=str(e.get("loc", ["?"])[-1]), message=str(e.get("msg", "")))
                  for e in exc.errors()]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid request"
        return _problem_response(ProblemError(422, "invalid-request", detail, errors=errors),
                                 request.url.path)

    # ---- page and health ---------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return Response((STATIC_DIR / "index.html").read_bytes(),
                        media_type="text/html; charset=utf-8")

    @app.get("/healthz", response_model=Health, tags=["service"],
             summary="Liveness check (never needs the token)")
    async def healthz() -> Health:
        return Health(status="ok", version=__version__)

    # ---- rulesets, formats, template ---------------------------------------------------

    @app.get("/v1/rulesets", response_model=list[RulesetInfo], tags=["rulesets"],
             summary="List the bundled rulesets")
    async def list_rulesets() -> list[RulesetInfo]:
        return await asyncio.to_thread(lambda: [catalog.info(i) for i in catalog.ids()])

    @app.get("/v1/rulesets/{ruleset_id}", response_model=RulesetDetail, tags=["rulesets"],
             summary="One bundled ruleset: every requirement and dated value with its source",
             responses={404: problem_response_spec("No bundled ruleset has this id")})
    async def get_ruleset(
            ruleset_id: Annotated[str, Path(description="a bundled ruleset id",
                                            examples=["us-ira-30d"])]) -> RulesetDetail:
        def load() -> RulesetDetail:
            info = catalog.info(ruleset_id)
            body = catalog.get(ruleset_id).ruleset.model_dump(mode="json", by_alias=True)
            return RulesetDetail(**info.model_dump(), ruleset=body)

        try:
            return await asyncio.to_thread(load)
        except ComplianceError as exc:
            if exc.code == "ruleset-not-found":
                raise ProblemError(404, exc.code, exc.message) from None
            raise from_compliance_error(exc) from None

    @app.get("/v1/formats", response_model=list[FormatInfo], tags=["audits"],
             summary="Report formats an audit can be downloaded in")
    async def list_formats() -> list[FormatInfo]:
        return [FormatInfo(name=f.name, media_type=f.media_type, extension=f.extension)
                for f in formats.values()]

    @app.get("/v1/template", tags=["template"], summary="Download the blank BOM workbook",
             response_class=Response,
             responses={200: {"description": "The blank workbook to fill in",
                              "content": {XLSX_MEDIA_TYPE: {"schema": {
                                  "type": "string", "format": "binary"}}}}})
    async def get_template() -> Response:
        if "xlsx" not in template_cache:
            template_cache["xlsx"] = await asyncio.to_thread(_template_bytes)
        return Response(template_cache["xlsx"], media_type=XLSX_MEDIA_TYPE, headers={
            "Content-Disposition": 'attachment; filename="bom-template.xlsx"'})

    # ---- uploads -------------------------------------------------------------------------

    async def receive_upload(request: Request, deadline: float) -> Upload:
        try:
            return await asyncio.wait_for(read_upload(request, settings.max_upload_bytes),
                                          timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise ProblemError(408, "upload-timeout", "the upload did not arrive within "
                               f"{settings.request_timeout:g} seconds",
                               headers={"Connection": "close"}) from None

    async def run_job(fn: Callable[[], bytes], deadline: float) -> bytes:
        try:
            return await gate.run(fn, queue_timeout=settings.queue_timeout, deadline=deadline,
                                  request_timeout=settings.request_timeout)
        except ComplianceError as exc:
            raise from_compliance_error(exc) from None
        except DeadlineExceeded:
            raise timeout_problem(settings.request_timeout) from None

    upload_errors = {
        413: problem_response_spec("The upload is larger than the service accepts"),
        415: problem_response_spec("The body is not multipart/form-data"),
        422: problem_response_spec(
            "The form is invalid (invalid-request), a ruleset is unknown (ruleset-not-found), "
            "or the file is not a usable workbook (not-a-workbook, unreadable-workbook, "
            "unsafe-workbook: also past the row or cell limit)"),
        408: problem_response_spec("The upload did not arrive in time"),
        429: problem_response_spec("Too many uploads in progress; retry after Retry-After"),
        503: problem_response_spec("No parse slot became free in time"),
        504: problem_response_spec("Processing took longer than the request time limit"),
    }

    @app.post("/v1/validations", tags=["audits"], response_class=Response,
              summary="Check a workbook's structure and cells only (no rules)",
              responses={200: {"model": ValidationReport,
                               "description": "The validation report (valid may be false)"},
                         **upload_errors},
              openapi_extra={"requestBody": _form_body(formats, audit=False)})
    async def create_validation(request: Request) -> Response:
        deadline = time.monotonic() + settings.request_timeout
        upload = await receive_upload(request, deadline)
        _reject_unknown_fields(upload, {FILE_FIELD})
        data, name = upload.data, upload.filename

        def job() -> bytes:
            import compliance

            check_workbook(data, name, settings, deadline)
            report = compliance.validate(data, name=name)
            return report.model_dump_json(indent=2).encode("utf-8") + b"\n"

        body = await run_job(job, deadline)
        return Response(body, media_type="application/json")

    @app.post("/v1/audits", tags=["audits"], response_class=Response,
              summary="Audit a workbook against rulesets",
              responses={200: {"model": AuditReport, "description": (
                  "The audit report in the chosen format (JSON by default)"),
                  "content": {f.media_type.split(";")[0]: {
                      "schema": {"type": "string", "format": "binary"}}
                      for f in formats.values() if f.name != "json"}},
                  **upload_errors},
              openapi_extra={"requestBody": _form_body(formats, audit=True)})
    async def create_audit(request: Request) -> Response:
        deadline = time.monotonic() + settings.request_timeout
        upload = await receive_upload(request, deadline)
        _reject_unknown_fields(upload, {FILE_FIELD, "rulesets", "as_of", "format", "strict"})
        fmt = _one(upload, "format") or "json"
        if fmt not in formats:
            raise invalid("format", f"'{fmt}' is not a report format; choose one of "
                          + ", ".join(formats))
        as_of = _as_of(_one(upload, "as_of"))
        strict = _boolean("strict", _one(upload, "strict"))
        ids = _ruleset_ids(upload.values("rulesets"))
        try:
            loaded = await asyncio.to_thread(lambda: [catalog.get(i) for i in ids])
        except ComplianceError as exc:
            raise from_compliance_error(exc) from None
        data, name = upload.data, upload.filename

        def job() -> bytes:
            import compliance
            from compliance.reader.bom import read_bom
            from compliance.report.render import render

            check_workbook(data, name, settings, deadline)
            bom = read_bom(data, name=name, limits=settings.limits())
            if time.monotonic() > deadline:
                raise DeadlineExceeded
            report = compliance.audit(bom, loaded, as_of, strict=strict)
            return render(report, fmt)

        body = await run_job(job, deadline)
        spec = formats[fmt]
        filename = f"{download_stem(name)}-audit.{spec.extension}"
        return Response(body, media_type=spec.media_type, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})

    app.openapi = functools.partial(_openapi, app, settings)  # type: ignore[method-assign]
    return app


# --------------------------------------------------------------------------------------------
# Form fields
# --------------------------------------------------------------------------------------------


def _reject_unknown_fields(upload: Upload, allowed: set[str]) -> None:
    unknown = sorted(set(upload.fields) - allowed)
    if unknown:
        raise invalid(unknown[0], "not a field of this form; send only "
                      + ", ".join(sorted(allowed)))


def _one(upload: Upload, name: str) -> str | None:
    values = upload.values(name)
    if len(values) > 1:
        raise invalid(name, "send this field once")
    return values[0].strip() if values else None


def _as_of(text: str | None) -> dt.date | None:
    if not text:
        return None
    if not DATE.match(text):
        raise invalid("as_of", f"'{text[:40]}' is not a date; write YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise invalid("as_of", f"'{text}' is not a calendar date") from None


def _boolean(name: str, text: str | None) -> bool:
    if text is None or text == "":
        return False
    folded = text.lower()
    if folded in ("true", "1", "yes", "on"):
        return True
    if folded in ("false", "0", "no", "off"):
        return False
    raise invalid(name, f"'{text[:40]}' is not true or false")


def _ruleset_ids(values: list[str]) -> list[str]:
    ids: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part and part not in ids:
                ids.append(part)
    if len(ids) > MAX_RULESETS:
        raise invalid("rulesets", f"at most {MAX_RULESETS} rulesets per audit")
    return ids or list(DEFAULT_RULESETS)


def _form_body(formats: dict[str, Any], *, audit: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "file": {"type": "string", "format": "binary",
                 "description": "The workbook (.xlsx). Its name is shown in the report only."},
    }
    if audit:
        properties.update({
            "rulesets": {"type": "array", "items": {"type": "string"},
                         "description": "Bundled ruleset ids (repeat the field, or separate "
                                        "with commas). Default: us-ira-30d."},
            "as_of": {"type": "string", "format": "date",
                      "description": "Evaluate every battery as if its dates were this day."},
            "format": {"type": "string", "enum": list(formats), "default": "json",
                       "description": "Report format of the answer."},
            "strict": {"type": "boolean", "default": False,
                       "description": "Verdicts resting on unconfirmed ruleset values become "
                                      "insufficient_data instead of provisional."},
        })
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": properties,
                   "additionalProperties": False},
        "encoding": {"file": {"contentType": f"{XLSX_MEDIA_TYPE}, application/octet-stream"}},
    }}}


def _template_bytes() -> bytes:
    from compliance.template import write_template

    # write_template writes to a path: a private temporary folder, removed at once. The
    # template holds no uploaded data; the bytes are then served from memory.
    with tempfile.TemporaryDirectory(prefix="compliance-template-") as folder:
        path = FilePath(folder) / "template.xlsx"
        write_template(path)
        return path.read_bytes()


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's document plus the problem schema and, with a token, the bearer scheme."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in problem.pop("$defs", {}).items():
        schemas[name] = sub
    schemas["Problem"] = problem
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            # FastAPI's default 422 describes its own error shape; ours is a problem.
            if "422" in responses and "HTTPValidationError" in str(responses["422"]):
                responses["422"] = problem_response_spec("The request is invalid "
                                                         "(invalid-request)")
            if settings.token and path not in PUBLIC_PATHS:
                operation["security"] = [{"bearer": []}]
                responses["401"] = problem_response_spec(
                    "The bearer token is missing or wrong (unauthorized)")
    for name in ("HTTPValidationError", "ValidationError"):
        if not _referenced(doc, name):
            schemas.pop(name, None)
    if settings.token:
        components["securitySchemes"] = {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "The value of COMPLIANCE_API_TOKEN on the server"}}
    app.openapi_schema = doc
    return doc


def _referenced(doc: dict[str, Any], name: str) -> bool:
    import json

    return f'"#/components/schemas/{name}"' in json.dumps(doc)

