"""Redaction shared by import and record."""

from .redactor import PII_KINDS, Redactor

__all__ = ["Redactor", "PII_KINDS"]
