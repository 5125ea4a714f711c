"""portalspec: record, redact, match and report web-portal API traffic. Never replays a call."""

__version__ = "0.1.0"
