"""Importers: outside files (HAR, mitmproxy flows) into redacted captures."""

from .run import import_file

__all__ = ["import_file"]
