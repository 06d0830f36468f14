"""Compressed and non-ASCII-compatible bodies: gated when possible, never corrupted."""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client

from consentgate import ConsentGate
from consentgate.encoding import Recoder, unsupported_reason

from .conftest import GTAG, PAGE

Gate = Callable[..., ConsentGate]
GATED = PAGE.replace(GTAG, b"\n\n")


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def encoded_app(body: bytes, encoding: str, content_type: str = "text/html") -> Any:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", content_type), ("Content-Encoding", encoding)])
        return chunked(body, 50)

    return app


def refuse(client: Client) -> None:
    client.post("/consent", data={"action": "reject_all"})


@pytest.mark.parametrize(
    ("encoding", "encode", "decode"),
    [
        pytest.param("gzip", gzip.compress, gzip.decompress, id="gzip"),
        pytest.param("x-gzip", gzip.compress, gzip.decompress, id="x-gzip"),
        pytest.param("deflate", zlib.compress, zlib.decompress, id="deflate-zlib"),
        pytest.param(
            "deflate",
            raw_deflate,
            lambda data: zlib.decompress(data, -zlib.MAX_WBITS),
            id="deflate-raw",
        ),
    ],
)
def test_compressed_pages_are_gated_and_recompressed(
    make_gate: Gate, encoding: str, encode: Callable[[bytes], bytes], decode: Callable[..., bytes]
) -> None:
    client = Client(make_gate(encoded_app(encode(PAGE), encoding)))
    refuse(client)
    response = client.get("/")
    assert response.headers["Content-Encoding"] == encoding
    assert decode(response.data) == GATED


def test_compressed_page_keeps_its_bytes_when_everything_is_granted(make_gate: Gate) -> None:
    client = Client(make_gate(encoded_app(gzip.compress(PAGE), "gzip")))
    client.post("/consent", data={"action": "accept_all"})
    assert gzip.decompress(client.get("/").data) == PAGE


@pytest.mark.parametrize(
    ("encoding", "content_type"),
    [
        pytest.param("br", "text/html", id="brotli"),
        pytest.param("gzip, br", "text/html", id="stacked"),
        pytest.param("", "text/html; charset=UTF-16", id="utf-16"),
        pytest.param("", 'text/html; charset="utf-32le"', id="utf-32"),
    ],
)
def test_unhandled_bodies_pass_through_with_one_warning(
    make_gate: Gate, caplog: pytest.LogCaptureFixture, encoding: str, content_type: str
) -> None:
    body = b"\x1b\x00opaque" + PAGE
    client = Client(make_gate(encoded_app(body, encoding or "identity", content_type)))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.data == body
    warnings = [r for r in caplog.records if r.name == "consentgate"]
    assert len(warnings) == 1 and "passed through ungated" in warnings[0].getMessage()


def test_corrupt_gzip_is_no_server_error(make_gate: Gate, caplog: pytest.LogCaptureFixture) -> None:
    body = gzip.compress(PAGE)
    client = Client(make_gate(encoded_app(body[:10] + b"\xff" * 50, "gzip")))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 200
    assert any("does not decode" in r.getMessage() for r in caplog.records)


def test_inflating_is_bounded_per_step() -> None:
    fed: list[int] = []

    class Counter:
        def feed(self, data: bytes) -> bytes:
            fed.append(len(data))
            return b""

        def close(self) -> bytes:
            return b""

    bomb = gzip.compress(b"<p>" + b" " * (20 * 1024 * 1024))
    recoder = Recoder("gzip", Counter(), warn=lambda message: None)
    for chunk in chunked(bomb, 16 * 1024):
        recoder.feed(chunk)
    assert sum(fed) == 20 * 1024 * 1024 + 3
    assert max(fed) <= 256 * 1024


@pytest.mark.parametrize(
    ("content_type", "encoding", "gated"),
    [
        pytest.param("text/html; charset=utf-8", "", True, id="utf-8"),
        pytest.param("text/html; charset=windows-1252", "gzip", True, id="cp1252-gzip"),
        pytest.param("text/html;charset=ISO-8859-1", "identity", True, id="latin-1"),
        pytest.param("text/html; charset=utf-16le", "", False, id="utf-16le"),
        pytest.param("text/html", "zstd", False, id="zstd"),
    ],
)
def test_which_bodies_can_be_gated(content_type: str, encoding: str, gated: bool) -> None:
    assert (unsupported_reason(content_type, encoding) is None) is gated


def test_plain_app_bytes_unchanged_for_latin1(make_gate: Gate) -> None:
    body = "<p>caf\u00e9 \u00bd</p></body>".encode("latin-1") + GTAG
    client = Client(make_gate(encoded_app(body, "identity", "text/html; charset=latin-1")))
    refuse(client)
    assert client.get("/").data == body.replace(GTAG, b"\n\n")
