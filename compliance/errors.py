"""Exceptions for inputs that cannot be used at all (CLI exit code 3).

Problems inside a usable workbook are findings (:mod:`compliance.findings`), not exceptions.
"""

from __future__ import annotations


class ComplianceError(Exception):
    """Base class: a message a person can act on, and a stable code."""

    code = "compliance-error"

    def __init__(self, message: str, *, code: str | None = None, where: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class UnusableInputError(ComplianceError):
    """The file cannot be read as a BOM workbook at all."""

    code = "unusable-input"


class RulesetError(ComplianceError):
    """A ruleset file is missing, malformed or inconsistent."""

    code = "invalid-ruleset"
