"""The paths of a request as the gate writes and logs them.

Every adapter hands the core a CGI-style request mapping (a WSGI environ, a
Django ``request.META`` or one built from an ASGI scope), whose strings carry
the raw bytes as Latin-1. These helpers turn its ``SCRIPT_NAME``,
``PATH_INFO`` and ``QUERY_STRING`` into the percent-encoded paths the gate
writes into forms and redirects, and the short, query-free path it logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

#: Longest path a log line shows; the query string is never logged (it may hold secrets).
LOGGED_PATH = 200


def current_path(environ: Mapping[str, Any]) -> str:
    """The path and query of this request, to come back to after deciding."""
    return path_and_query(*raw_path(environ))


def app_path(environ: Mapping[str, Any]) -> str:
    """The path and query of this request inside the app, without the mount prefix:
    the ``next`` of the gate's forms, which the endpoint puts back behind the prefix."""
    return path_and_query("", environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))


def log_path(environ: Mapping[str, Any]) -> str:
    """This request's path for a log line: no query string, which may carry tokens
    or personal data, and at most :data:`LOGGED_PATH` characters."""
    path = path_and_query(*raw_path(environ)[:2], "")
    return path if len(path) <= LOGGED_PATH else path[:LOGGED_PATH] + "..."


def raw_path(environ: Mapping[str, Any]) -> tuple[str, str, str]:
    """SCRIPT_NAME, PATH_INFO and QUERY_STRING, as the server gave them."""
    return (
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
    )


def path_and_query(script_name: str, path_info: str, query: str) -> str:
    """``script_name + path_info`` percent-encoded, with ``?query`` when there is one."""
    # CGI strings carry the raw bytes as Latin-1; keep them percent-encoded.
    raw = (script_name + path_info).encode("latin-1", "replace")
    path = quote(raw, safe="/;:@&=+$,!~*'()%") or "/"
    return f"{path}?{query}" if query else path
