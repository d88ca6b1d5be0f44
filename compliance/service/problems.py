"""Errors as RFC 9457 problem details (``application/problem+json``).

Every problem carries ``code``, the same stable kebab-case code the CLI prints (``not-a-workbook``,
``unsafe-workbook``, ``ruleset-not-found`` ...), so a client can act on it without parsing text.
``type`` is a ``tag:`` URI built from that code: it names the kind of problem and is not meant
to be fetched.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from compliance.errors import ComplianceError, RulesetError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "tag:battery-compliance,2025:problems/"

# Titles for the service's own codes; workbook codes take their title from compliance.findings.
_TITLES = {
    "unauthorized": "Authentication required",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "unsupported-media-type": "Send multipart/form-data",
    "invalid-request": "The request is not valid",
    "file-too-large": "Upload too large",
    "ruleset-not-found": "Ruleset not found",
    "invalid-ruleset": "Ruleset cannot be used",
    "too-many-requests": "Too many uploads in progress",
    "busy": "Service busy",
    "timeout": "Request took too long",
    "upload-timeout": "Upload took too long",
    "internal-error": "Internal error",
}


class FieldError(BaseModel):
    """One problem with one request field."""

    field: str = Field(description="form field, path parameter or 'body'")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object with this service's ``code`` extension."""

    type: str = Field(description="URI naming the kind of problem (a tag: URI from the code)")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong with this request, for a person")
    code: str = Field(description="stable kebab-case code, as printed by the CLI")
    instance: str | None = Field(default=None, description="the request path")
    errors: list[FieldError] | None = Field(
        default=None, description="per-field problems (code 'invalid-request' only)")


class ProblemError(Exception):
    """Raise anywhere in the service to answer with a problem document."""

    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None,
                 headers: dict[str, str] | None = None,
                 errors: list[FieldError] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or title_for(code)
        self.headers = headers or {}
        self.errors = errors

    def problem(self, instance: str | None = None) -> Problem:
        return Problem(type=TYPE_PREFIX + self.code, title=self.title, status=self.status,
                       detail=self.detail, code=self.code, instance=instance,
                       errors=self.errors)


def title_for(code: str) -> str:
    if code in _TITLES:
        return _TITLES[code]
    from compliance.findings import all_codes

    for info in all_codes():
        if info.code == code:
            return info.title
    return code.replace("-", " ").capitalize()


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "invalid-request", f"{field}: {message}",
                        errors=[FieldError(field=field, message=message)])


def from_compliance_error(exc: ComplianceError) -> ProblemError:
    """Map a library error to a status: the upload's fault is 413/422, a ruleset's is ours."""
    if exc.code == "ruleset-not-found":
        return ProblemError(422, exc.code, exc.message)
    if isinstance(exc, RulesetError):
        # Only bundled rulesets are served, so a broken one is the server's fault. The message
        # names a file on the server: it goes to the operator's log, not into the response.
        logging.getLogger("compliance.service").error("bundled ruleset unusable: %s", exc)
        return ProblemError(500, exc.code, "a bundled ruleset cannot be loaded; the service "
                            "operator has been told in the log")
    status = 413 if exc.code == "file-too-large" else 422
    # exc.message, not str(exc): the latter is prefixed with the client's file name.
    return ProblemError(status, exc.code, exc.message)


def problem_body(problem: Problem) -> bytes:
    return problem.model_dump_json(exclude_none=True).encode("utf-8")


def problem_response_spec(description: str) -> dict[str, Any]:
    """An OpenAPI response object for a problem answer."""
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
