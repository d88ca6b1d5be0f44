"""The HTTP service through an HTTP client: every endpoint, every error path, limits, token."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import tempfile
import threading
import time
import zipfile
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from compliance.report.render import FORMATS
from compliance.service import Settings, create_app
from compliance.service.settings import parse_size

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEM = "application/problem+json"
SECRET = "Zq-SECRET-supplier-7741"  # appears in the workbook; must never reach a log

ENTITY_HEADERS = ["entity_id", "name", "incorporated_in", "headquartered_in",
                  "covered_government_voting_pct", "covered_government_board_pct",
                  "covered_government_equity_pct", "effective_control"]
MINERAL_HEADERS = ["battery_id", "line_id", "mineral", "value_usd", "extraction_country",
                   "extraction_entity", "processing_country", "processing_entity"]


def make_workbook(*, minerals: list[list[Any]] | None = None, batteries: int = 0,
                  probe: str = "Atlantis") -> bytes:
    """A small BOM: BAT-OK passes, BAT-FAIL fails, BAT-GAP has an unknown country cell (E5).

    ``batteries`` adds that many more passing batteries (for size and load tests); ``probe``
    is the text of the bad country cell (the browser test puts markup there).
    """
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "batteries"
    ws.append(["battery_id", "placed_in_service", "description"])
    ws.append(["BAT-OK", "2025-03-01", "North American pack"])
    ws.append(["BAT-FAIL", "2025-03-01", "Imported pack"])
    ws.append(["BAT-GAP", "2025-03-01", f"Pack of {SECRET}"])
    extra = [f"BAT-X{i:05d}" for i in range(batteries)]
    for bid in extra:
        ws.append([bid, "2025-03-01", "generated"])
    ws = wb.create_sheet("components")
    ws.append(["battery_id", "component_id", "component_type", "country", "manufacturer",
               "incremental_value_usd"])
    for bid, country in (("BAT-OK", "US"), ("BAT-FAIL", "CN"), ("BAT-GAP", "US"),
                         *((b, "US") for b in extra)):
        ws.append([bid, "C1", "battery cell", country, "CELL", 1000])
    ws = wb.create_sheet("minerals")
    ws.append(MINERAL_HEADERS)
    rows = minerals if minerals is not None else [
        ["BAT-OK", "L1", "lithium", 900, "AU", "MINE", "US", "REF"],
        ["BAT-FAIL", "L1", "lithium", 900, "CN", "MINE", "CN", "REF"],
        ["BAT-GAP", "L1", "lithium", 500, "AU", "MINE", "US", "REF"],
        ["BAT-GAP", "L2", "nickel", 500, probe, "MINE", "US", "REF"],
    ]
    for row in rows:
        ws.append(row)
    for bid in extra:
        ws.append([bid, "L1", "lithium", 900, "AU", "MINE", "US", "REF"])
    ws = wb.create_sheet("entities")
    ws.append(ENTITY_HEADERS)
    for eid in ("MINE", "REF", "CELL"):
        ws.append([eid, f"{eid} Inc", "US", "US", 0, 0, 0, False])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def workbook() -> bytes:
    return make_workbook()


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(Settings(token=None)))


def upload(client: TestClient, path: str, data: bytes, *, name: str = "bom.xlsx",
           fields: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
    return client.post(path, files={"file": (name, data, XLSX)}, data=fields or {}, **kw)


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith("/" + code)
    assert body["title"] and body["detail"]
    return body


# --------------------------------------------------------------------------------------------
# Health, page, rulesets, formats, template
# --------------------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["cache-control"] == "no-store"


def test_page_and_assets_are_served_from_the_package_with_a_strict_policy(
        client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    assert '<label for="file">' in html and 'aria-live="polite"' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("/static/app.js", "/static/app.css"):
        got = client.get(asset)
        assert got.status_code == 200 and got.content
        assert "https://" not in got.text
    assert ".innerHTML" not in client.get("/static/app.js").text


def test_rulesets_list_and_detail(client: TestClient) -> None:
    listed = client.get("/v1/rulesets")
    assert listed.status_code == 200
    ids = [r["id"] for r in listed.json()]
    assert "us-ira-30d" in ids
    first = listed.json()[0]
    assert len(first["sha256"]) == 64 and first["href"] == f"/v1/rulesets/{first['id']}"
    detail = client.get("/v1/rulesets/us-ira-30d")
    assert detail.status_code == 200
    body = detail.json()
    assert body["id"] == "us-ira-30d" and body["ruleset"]["requirements"]


@pytest.mark.parametrize("bad", ["no-such-ruleset", "..", "compliance", "tests",
                                 "..%2F..%2Fetc%2Fpasswd", "US-IRA-30D", "x" * 300])
def test_unknown_or_path_like_ruleset_is_404_problem(client: TestClient, bad: str) -> None:
    response = client.get(f"/v1/rulesets/{bad}")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] in ("ruleset-not-found", "not-found")


def test_formats_follow_the_render_registry(client: TestClient) -> None:
    got = client.get("/v1/formats").json()
    assert [f["name"] for f in got] == list(FORMATS)


def test_template_download(client: TestClient) -> None:
    response = client.get("/v1/template")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "bom-template.xlsx" in response.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert "batteries" in wb.sheetnames


def test_unknown_path_and_method_are_problems(client: TestClient) -> None:
    problem(client.get("/v2/audits"), 404, "not-found")
    problem(client.delete("/v1/audits"), 405, "method-not-allowed")
    problem(client.get("/v1/audits"), 405, "method-not-allowed")


# --------------------------------------------------------------------------------------------
# Validations and audits
# --------------------------------------------------------------------------------------------


def test_validation_reports_cell_precise_findings(client: TestClient, workbook: bytes) -> None:
    response = upload(client, "/v1/validations", workbook)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["format"].startswith("battery-compliance/validation-report")
    assert report["valid"] is False  # the unknown country is an error
    bad = [f for f in report["findings"] if f["code"] == "unknown-country"]
    assert bad and bad[0]["sheet"] == "minerals" and bad[0]["cell"] == "E5"


def test_audit_json_default(client: TestClient, workbook: bytes) -> None:
    response = upload(client, "/v1/audits", workbook)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    by_id = {b["battery_id"]: b["status"] for b in report["batteries"]}
    assert by_id["BAT-OK"] == "pass"
    assert by_id["BAT-FAIL"] == "fail"
    assert by_id["BAT-GAP"] == "insufficient_data"
    assert report["input"]["name"] == "bom.xlsx"
    assert [r["id"] for r in report["rulesets"]] == ["us-ira-30d"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_audit_in_every_registered_format(client: TestClient, workbook: bytes, fmt: str) -> None:
    response = upload(client, "/v1/audits", workbook, fields={"format": fmt})
    assert response.status_code == 200, response.text
    spec = FORMATS[fmt]
    assert response.headers["content-type"].split(";")[0] == spec.media_type.split(";")[0]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="bom-audit.{spec.extension}"')
    assert response.content


def test_audit_as_of_rulesets_and_strict(client: TestClient, workbook: bytes) -> None:
    response = client.post("/v1/audits", files=[
        ("file", ("bom.xlsx", workbook, XLSX)), ("rulesets", (None, "us-ira-30d")),
        ("rulesets", (None, "us-ira-30d,us-ira-30d")), ("as_of", (None, "2026-01-01")),
        ("strict", (None, "true"))])
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["as_of"] == "2026-01-01"
    assert [r["id"] for r in report["rulesets"]] == ["us-ira-30d"]


def test_client_file_name_is_only_a_label(client: TestClient, workbook: bytes) -> None:
    # A raw body: HTTP clients would percent-encode the control characters.
    body = (b'--xyz\r\nContent-Disposition: form-data; name="file"; '
            b'filename="../../etc/pass\x01wd\x7f.xlsx"\r\n\r\n' + workbook
            + b"\r\n--xyz--\r\n")
    response = client.post("/v1/audits", content=body,
                           headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert response.status_code == 200, response.text
    assert response.json()["input"]["name"] == "passwd.xlsx"
    assert response.headers["content-disposition"] == 'attachment; filename="passwd-audit.json"'


@pytest.mark.parametrize("path", ["/v1/audits", "/v1/validations"])
@pytest.mark.parametrize(("data", "code"), [
    (b"", "not-a-workbook"),
    (b"battery_id,placed_in_service\nB1,2025-01-01\n", "not-a-workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "not-a-workbook"),
    (b"PK\x03\x04broken zip", "not-a-workbook"),
])
def test_unusable_files_are_422_with_the_cli_code(client: TestClient, path: str, data: bytes,
                                                  code: str) -> None:
    body = problem(upload(client, path, data), 422, code)
    assert body["instance"] == path


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b" " * (8 << 20))  # expands ~1000-fold
    return buf.getvalue()


def test_zip_bomb_is_unsafe_workbook(client: TestClient) -> None:
    problem(upload(client, "/v1/audits", _bomb()), 422, "unsafe-workbook")


@pytest.mark.parametrize(("fields", "field"), [
    ({"as_of": "yesterday"}, "as_of"),
    ({"as_of": "2025-02-30"}, "as_of"),
    ({"format": "pdf"}, "format"),
    ({"strict": "maybe"}, "strict"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_form_fields(client: TestClient, workbook: bytes, fields: dict[str, str],
                             field: str) -> None:
    body = problem(upload(client, "/v1/audits", workbook, fields=fields), 422, "invalid-request")
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize("ruleset", ["no-such-ruleset", "/etc/passwd",
                                     "../rulesets/us-ira-30d", "rulesets/us-ira-30d/ruleset.yaml",
                                     "compliance"])
def test_unknown_ruleset_in_audit_never_opens_a_path(client: TestClient, workbook: bytes,
                                                     ruleset: str) -> None:
    problem(upload(client, "/v1/audits", workbook, fields={"rulesets": ruleset}), 422,
            "ruleset-not-found")


def test_too_many_rulesets(client: TestClient, workbook: bytes) -> None:
    many = ",".join(f"r{i}" for i in range(20))
    problem(upload(client, "/v1/audits", workbook, fields={"rulesets": many}), 422,
            "invalid-request")


def test_form_shape_errors(client: TestClient, workbook: bytes) -> None:
    problem(client.post("/v1/audits", json={"file": "x"}), 415, "unsupported-media-type")
    problem(client.post("/v1/audits", content=b"x", headers={"content-type": "text/plain"}),
            415, "unsupported-media-type")
    body = problem(client.post("/v1/audits", data={"format": "json"},
                               files={"other": ("a.txt", b"x")}), 422, "invalid-request")
    assert body["errors"][0]["field"] in ("file", "other")
    problem(client.post("/v1/audits", files={"format": (None, "json")}), 422, "invalid-request")
    two = client.post("/v1/audits", files=[("file", ("a.xlsx", workbook, XLSX)),
                                           ("file", ("b.xlsx", workbook, XLSX))])
    problem(two, 422, "invalid-request")
    problem(client.post("/v1/audits", content=b"--xyz\r\nnonsense",
                        headers={"content-type": "multipart/form-data; boundary=xyz"}),
            422, "invalid-request")
    truncated = (b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\""
                 b"\r\n\r\n" + workbook[:100])
    problem(client.post("/v1/audits", content=truncated,
                        headers={"content-type": "multipart/form-data; boundary=xyz"}),
            422, "invalid-request")
    problem(client.post("/v1/audits", content=b"",
                        headers={"content-type": "multipart/form-data"}), 422, "invalid-request")


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


def test_upload_over_the_size_limit_is_413(workbook: bytes) -> None:
    small = TestClient(create_app(Settings(max_upload_bytes=len(workbook) - 1)))
    body = problem(upload(small, "/v1/audits", workbook), 413, "file-too-large")
    assert str(len(workbook) - 1) in body["detail"]
    fits = TestClient(create_app(Settings(max_upload_bytes=len(workbook))))
    assert upload(fits, "/v1/validations", workbook).status_code == 200


def _drive(app: Any, headers: list[tuple[bytes, bytes]], chunks: int, size: int
           ) -> tuple[int, int]:
    """Send a body of ``chunks`` x ``size`` bytes straight into the ASGI app; return the status
    and how many chunks the app pulled before answering."""
    pulled = 0
    status = 0
    boundary = b"b0undary"
    head = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
            b'filename="big.xlsx"\r\n\r\n')

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        if pulled > chunks:
            return {"type": "http.disconnect"}
        body = head + b"x" * (size - len(head)) if pulled == 1 else b"x" * size
        return {"type": "http.request", "body": body, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/audits", "raw_path": b"/v1/audits",
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 1234),
             "headers": [(b"content-type", b"multipart/form-data; boundary=" + boundary),
                         *headers]}
    asyncio.run(app(scope, receive, send))
    return status, pulled


def test_size_limit_is_enforced_while_streaming_not_after() -> None:
    app = create_app(Settings(max_upload_bytes=100 << 10))
    # No Content-Length (chunked): the app stops reading two chunks past the limit at most.
    status, pulled = _drive(app, [], chunks=1000, size=64 << 10)
    assert status == 413
    assert pulled <= 4, f"read {pulled} chunks of 64 KiB for a 100 KiB limit"
    # A declared length over the limit is refused before the body is read at all.
    status, pulled = _drive(app, [(b"content-length", str(1 << 30).encode())], chunks=1000,
                            size=64 << 10)
    assert status == 413
    assert pulled == 0


def test_a_body_that_trickles_in_past_the_time_limit_is_408() -> None:
    app = create_app(Settings(request_timeout=0.3))
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls > 1:
            await asyncio.sleep(0.2)  # a slow client: one small chunk every 0.2 s
        return {"type": "http.request", "body": b"--b\r\n" if calls == 1 else b"x",
                "more_body": calls < 100}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/v1/validations",
             "raw_path": b"/v1/validations", "query_string": b"", "root_path": "",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "headers": [(b"content-type", b"multipart/form-data; boundary=b")]}
    started = time.perf_counter()
    asyncio.run(app(scope, receive, send))
    assert time.perf_counter() - started < 1.5
    assert sent[0]["status"] == 408
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["code"] == "upload-timeout"


def test_row_and_cell_limits_are_unsafe_workbook() -> None:
    data = make_workbook(batteries=30)
    rows = TestClient(create_app(Settings(max_rows=50)))
    body = problem(upload(rows, "/v1/audits", data), 422, "unsafe-workbook")
    assert "rows" in body["detail"]
    cells = TestClient(create_app(Settings(max_cells=200)))
    body = problem(upload(cells, "/v1/validations", data), 422, "unsafe-workbook")
    assert "cells" in body["detail"]
    roomy = TestClient(create_app(Settings(max_rows=500, max_cells=5000)))
    assert upload(roomy, "/v1/audits", data).status_code == 200


def test_settings_map_onto_reader_limits_and_environment() -> None:
    s = Settings(max_upload_bytes=1 << 20, max_rows=1234, max_cells=10_000)
    limits = s.limits()
    assert limits.max_file_bytes == 1 << 20
    assert limits.max_rows == 1234
    env = {"COMPLIANCE_MAX_UPLOAD_BYTES": "5MiB", "COMPLIANCE_MAX_ROWS": "10_000",
           "COMPLIANCE_MAX_CELLS": "99", "COMPLIANCE_REQUEST_TIMEOUT": "7.5",
           "COMPLIANCE_MAX_PARSES": "3", "COMPLIANCE_MAX_QUEUE": "0",
           "COMPLIANCE_QUEUE_TIMEOUT": "2", "COMPLIANCE_API_TOKEN": "t0ken"}
    got = Settings.from_env(env, max_rows=7)
    assert (got.max_upload_bytes, got.max_rows, got.max_cells, got.request_timeout,
            got.max_parses, got.max_queue, got.queue_timeout, got.token) == (
        5 << 20, 7, 99, 7.5, 3, 0, 2.0, "t0ken")
    assert Settings.from_env({}).token is None
    assert parse_size("512k") == 512 << 10 and parse_size("20M") == 20 << 20
    with pytest.raises(ValueError, match="COMPLIANCE_MAX_ROWS"):
        Settings.from_env({"COMPLIANCE_MAX_ROWS": "lots"})
    with pytest.raises(ValueError):
        Settings(request_timeout=float("nan"))
    with pytest.raises(ValueError):
        Settings(max_upload_bytes=0)


def _slow(seconds: float):  # type: ignore[no-untyped-def]
    from compliance.service import work

    def check(*args: Any, **kwargs: Any) -> None:
        time.sleep(seconds)
        work.check_workbook(*args, **kwargs)

    return check


async def _post(client: httpx.AsyncClient, path: str, data: bytes) -> httpx.Response:
    return await client.post(path, files={"file": ("bom.xlsx", data, XLSX)})


def test_wall_time_limit_gives_504_and_the_loop_keeps_answering(
        monkeypatch: pytest.MonkeyPatch, workbook: bytes) -> None:
    monkeypatch.setattr("compliance.service.app.check_workbook", _slow(1.5))
    app = create_app(Settings(request_timeout=0.5))

    async def scenario() -> tuple[httpx.Response, float, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            started = time.perf_counter()
            slow = asyncio.create_task(_post(c, "/v1/audits", workbook))
            await asyncio.sleep(0.1)
            t0 = time.perf_counter()
            health = await c.get("/healthz")
            assert health.status_code == 200
            health_s = time.perf_counter() - t0
            response = await slow
            return response, time.perf_counter() - started, health_s

    response, elapsed, health_s = asyncio.run(scenario())
    body = problem(response, 504, "timeout")
    assert "0.5 seconds" in body["detail"]
    assert elapsed < 1.4, "the answer waited for the slow parse"
    assert health_s < 0.3, "the event loop was blocked by the parse"
    _settle(app)


def _settle(app: Any) -> None:
    """Wait for parse threads a test left running, so they do not slow the next test."""
    deadline = time.monotonic() + 10
    while app.state.gate.in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.state.gate.in_flight == 0


def test_full_queue_is_429_and_a_long_wait_is_503(monkeypatch: pytest.MonkeyPatch,
                                                  workbook: bytes) -> None:
    monkeypatch.setattr("compliance.service.app.check_workbook", _slow(1.0))

    async def two(app: Any) -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            first = asyncio.create_task(_post(c, "/v1/audits", workbook))
            await asyncio.sleep(0.2)
            second = await _post(c, "/v1/validations", workbook)
            return await first, second

    first, second = asyncio.run(two(create_app(Settings(max_parses=1, max_queue=0))))
    assert first.status_code == 200
    body = problem(second, 429, "too-many-requests")
    assert second.headers["retry-after"]
    assert body["detail"]

    first, second = asyncio.run(two(create_app(Settings(max_parses=1, max_queue=1,
                                                        queue_timeout=0.5))))
    assert first.status_code == 200
    problem(second, 503, "busy")
    assert second.headers["retry-after"]


def test_parse_slot_is_held_until_a_timed_out_parse_really_ends(
        monkeypatch: pytest.MonkeyPatch, workbook: bytes) -> None:
    monkeypatch.setattr("compliance.service.app.check_workbook", _slow(1.0))
    app = create_app(Settings(max_parses=1, max_queue=0, request_timeout=0.3))
    client = TestClient(app)
    problem(upload(client, "/v1/audits", workbook), 504, "timeout")
    assert app.state.gate.in_flight == 1  # the thread still runs: its slot stays taken
    problem(upload(client, "/v1/audits", workbook), 429, "too-many-requests")
    _settle(app)


# --------------------------------------------------------------------------------------------
# Token
# --------------------------------------------------------------------------------------------


def test_bearer_token(workbook: bytes) -> None:
    client = TestClient(create_app(Settings(token="s3cret-token")))
    assert client.get("/healthz").status_code == 200
    for path in ("/v1/rulesets", "/v1/rulesets/us-ira-30d", "/v1/formats", "/v1/template",
                 "/openapi.json", "/nowhere"):
        body = problem(client.get(path), 401, "unauthorized")
        assert body["instance"] == path
    missing = client.get("/v1/rulesets")
    assert missing.headers["www-authenticate"] == 'Bearer realm="compliance"'
    wrong = client.get("/v1/rulesets", headers={"Authorization": "Bearer nope"})
    problem(wrong, 401, "unauthorized")
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    problem(client.get("/v1/rulesets", headers={"Authorization": "Basic s3cret-token"}), 401,
            "unauthorized")
    problem(upload(client, "/v1/audits", workbook), 401, "unauthorized")
    good = {"Authorization": "Bearer s3cret-token"}
    assert client.get("/v1/rulesets", headers=good).status_code == 200
    assert client.get("/openapi.json", headers=good).status_code == 200
    assert upload(client, "/v1/audits", workbook, headers=good).status_code == 200
    # The page shell holds no data; it asks for the token and sends it on every API call.
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_token_compare_uses_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("compliance.service.app.hmac.compare_digest", spy)
    client = TestClient(create_app(Settings(token="abc")))
    assert client.get("/v1/formats", headers={"Authorization": "Bearer abc"}).status_code == 200
    assert calls == [(b"abc", b"abc")]


# --------------------------------------------------------------------------------------------
# OpenAPI
# --------------------------------------------------------------------------------------------


def test_openapi_document(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in ("/healthz", "/v1/rulesets", "/v1/rulesets/{ruleset_id}", "/v1/validations",
                 "/v1/audits", "/v1/formats", "/v1/template"):
        assert path in paths
    audit = paths["/v1/audits"]["post"]
    form = audit["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert form["properties"]["format"]["enum"] == list(FORMATS)
    for status in ("413", "415", "422", "429", "503", "504"):
        assert PROBLEM in audit["responses"][status]["content"]
    assert "AuditReport" in json.dumps(audit["responses"]["200"])
    assert "Problem" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "securitySchemes" not in doc["components"]
    assert "/" not in paths and "/docs" not in paths
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_openapi_declares_the_bearer_scheme_when_a_token_is_set() -> None:
    client = TestClient(create_app(Settings(token="t")))
    doc = client.get("/openapi.json", headers={"Authorization": "Bearer t"}).json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert doc["paths"]["/v1/audits"]["post"]["security"] == [{"bearer": []}]
    assert "401" in doc["paths"]["/v1/audits"]["post"]["responses"]
    assert "security" not in doc["paths"]["/healthz"]["get"]


# --------------------------------------------------------------------------------------------
# Confidentiality: no disk, no logs, no leaks in errors
# --------------------------------------------------------------------------------------------


def test_uploads_touch_no_temporary_files(monkeypatch: pytest.MonkeyPatch,
                                          workbook: bytes) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an upload was about to be written to a temporary file")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp",
                 "mkdtemp", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, refuse)
    client = TestClient(create_app(Settings()))
    assert upload(client, "/v1/audits", workbook).status_code == 200
    assert upload(client, "/v1/validations", workbook).status_code == 200
    assert upload(client, "/v1/audits", workbook, fields={"format": "json"}).status_code == 200


def test_nothing_of_the_upload_reaches_the_logs(caplog: pytest.LogCaptureFixture,
                                                workbook: bytes) -> None:
    caplog.set_level(logging.DEBUG)
    client = TestClient(create_app(Settings()))
    response = upload(client, f"/v1/audits?note={SECRET}", workbook,
                      name=f"{SECRET}.xlsx")
    assert response.status_code == 200
    assert SECRET in response.text  # it is in the report, for the caller
    upload(client, "/v1/audits", b"not a workbook " + SECRET.encode(), name=f"{SECRET}.xlsx")
    # httpx's own log line is the client's, not the service's.
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records
                     if not r.name.startswith(("httpx", "httpcore")))
    assert SECRET not in text
    access = [r.getMessage() for r in caplog.records if r.name == "compliance.service.access"]
    assert any(line.startswith("POST /v1/audits 200") for line in access), access


def test_internal_error_is_a_500_problem_without_the_message(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        workbook: bytes) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"cell said {SECRET}")

    monkeypatch.setattr("compliance.service.app.check_workbook", boom)
    caplog.set_level(logging.DEBUG)
    client = TestClient(create_app(Settings()), raise_server_exceptions=False)
    body = problem(upload(client, "/v1/audits", workbook), 500, "internal-error")
    assert SECRET not in json.dumps(body)
    assert SECRET not in "\n".join(r.getMessage() for r in caplog.records)
    assert any("RuntimeError" in r.getMessage() for r in caplog.records)


def test_a_broken_bundled_ruleset_is_a_server_problem(monkeypatch: pytest.MonkeyPatch,
                                                      workbook: bytes) -> None:
    from compliance.errors import RulesetError

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RulesetError("parameters.x: nonsense", where="/srv/rulesets/x.yaml")

    monkeypatch.setattr("compliance.rules.loader.load_ruleset", broken)
    client = TestClient(create_app(Settings()))
    body = problem(upload(client, "/v1/audits", workbook), 500, "invalid-ruleset")
    assert "/srv" not in body["detail"]
    problem(client.get("/v1/rulesets/us-ira-30d"), 500, "invalid-ruleset")


def test_app_survives_being_started_and_stopped_twice(workbook: bytes) -> None:
    app = create_app(Settings())
    for _ in range(2):
        with TestClient(app) as client:  # runs the lifespan (startup and shutdown)
            assert upload(client, "/v1/validations", workbook).status_code == 200


def test_serve_command_is_registered() -> None:
    from click.testing import CliRunner

    from compliance.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--max-upload", "--max-rows", "--max-cells",
                   "--timeout", "--max-parses", "--max-queue", "--queue-timeout"):
        assert option in result.output
    bad = CliRunner().invoke(main, ["serve", "--max-upload", "lots"])
    assert bad.exit_code == 2 and "not a size" in bad.output


def test_server_answers_over_a_real_socket(workbook: bytes) -> None:
    """uvicorn, not only the in-process client: the same app over loopback TCP."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(Settings()), log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/healthz").json()["status"] == "ok"
            got = http.post("/v1/audits", files={"file": ("bom.xlsx", workbook, XLSX)})
            assert got.status_code == 200 and got.json()["status"] == "fail"
            big = http.post("/v1/validations",
                            files={"file": ("big.xlsx", b"\0" * (21 << 20), XLSX)})
            assert big.status_code == 413
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
