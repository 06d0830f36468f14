"""Compressed and non-ASCII bodies: gated when they can be read, refused when not."""

from __future__ import annotations

import gzip
import logging
import subprocess
import sys
import zlib
from collections.abc import Callable
from typing import Any
from wsgiref.validate import validator

import brotli
import pytest
from backports import zstd
from werkzeug.test import Client

from consentgate import ConsentGate, encoding
from consentgate.encoding import Recoder, Unreadable, readable_accept_encoding

from .conftest import GTAG, PAGE, PAGE_ACCEPTED

Gate = Callable[..., ConsentGate]
GATED = PAGE.replace(GTAG, b"\n\n")
NOT_CHECKED = b"could not be checked"


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def encoded_app(body: bytes, *codings: str, content_type: str = "text/html", size: int = 50) -> Any:
    """An app sending ``body`` in ``size`` chunks, one Content-Encoding header per coding."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        headers = [("Content-Type", content_type), *(("Content-Encoding", c) for c in codings)]
        start_response("200 OK", headers)
        return chunked(body, size)

    return app


def refuse(client: Client) -> None:
    client.post("/consent", data={"action": "reject_all"})


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def without_brotli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as if the brotli package were not installed."""
    codecs = {name: layer for name, layer in encoding.CODECS.items() if name != "br"}
    monkeypatch.setattr(encoding, "CODECS", codecs)
    monkeypatch.setattr(encoding, "READABLE", frozenset(codecs))
    monkeypatch.setattr(encoding, "_narrowed", {})


# --- what can be read is gated ------------------------------------------------


def unbrotli(data: bytes) -> bytes:
    return bytes(brotli.decompress(data))


def gunzip_twice(data: bytes) -> bytes:
    return gzip.decompress(gzip.decompress(data))


DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "br": unbrotli,
    "zstd": zstd.decompress,
}


@pytest.mark.parametrize(
    ("codings", "encode", "decode"),
    [
        pytest.param(("gzip",), gzip.compress, gzip.decompress, id="gzip"),
        pytest.param(("x-gzip",), gzip.compress, gzip.decompress, id="x-gzip"),
        pytest.param(("deflate",), zlib.compress, zlib.decompress, id="deflate-zlib"),
        pytest.param(
            ("deflate",),
            raw_deflate,
            lambda data: zlib.decompress(data, -zlib.MAX_WBITS),
            id="deflate-raw",
        ),
        pytest.param(("br",), brotli.compress, unbrotli, id="brotli"),
        pytest.param(("zstd",), zstd.compress, zstd.decompress, id="zstd"),
        pytest.param(
            ("gzip, gzip",),
            lambda data: gzip.compress(gzip.compress(data)),
            gunzip_twice,
            id="stacked",
        ),
        pytest.param(
            ("gzip", "gzip"),
            lambda data: gzip.compress(gzip.compress(data)),
            gunzip_twice,
            id="repeated-header",
        ),
        pytest.param(
            ("gzip", "identity, br"),
            lambda data: brotli.compress(gzip.compress(data)),
            lambda data: gzip.decompress(unbrotli(data)),
            id="gzip-then-br",
        ),
    ],
)
@pytest.mark.parametrize("size", [1, 7, 50, 100_000])
def test_compressed_pages_are_gated_and_encoded_again(
    make_gate: Gate,
    codings: tuple[str, ...],
    encode: Callable[[bytes], bytes],
    decode: Callable[[bytes], bytes],
    size: int,
) -> None:
    client = Client(make_gate(encoded_app(encode(PAGE), *codings, size=size)))
    refuse(client)
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers.getlist("Content-Encoding") == list(codings)
    assert decode(response.data) == GATED


def test_zstd_frames_after_the_first_are_gated(make_gate: Gate) -> None:
    half = len(PAGE) // 2
    body = zstd.compress(PAGE[:half]) + zstd.compress(PAGE[half:])
    client = Client(make_gate(encoded_app(body, "zstd")))
    refuse(client)
    assert zstd.decompress(client.get("/").data) == GATED


def test_compressed_page_keeps_its_bytes_when_everything_is_granted(make_gate: Gate) -> None:
    client = Client(make_gate(encoded_app(gzip.compress(PAGE), "gzip")))
    client.post("/consent", data={"action": "accept_all"})
    # But for the Google Consent Mode default, inserted before the first script.
    assert gzip.decompress(client.get("/").data) == PAGE_ACCEPTED


def test_plain_app_bytes_unchanged_for_latin1(make_gate: Gate) -> None:
    body = "<p>caf\u00e9 \u00bd</p></body>".encode("latin-1") + GTAG
    client = Client(make_gate(encoded_app(body, content_type="text/html; charset=latin-1")))
    refuse(client)
    assert client.get("/").data == body.replace(GTAG, b"\n\n")


# --- what cannot be read is refused -------------------------------------------


@pytest.mark.parametrize(
    ("body", "codings", "content_type"),
    [
        pytest.param(PAGE, ("compress",), "text/html", id="unknown-coding"),
        pytest.param(PAGE, ("dcz",), "text/html", id="dictionary-zstd"),
        pytest.param(
            zlib.compress(PAGE), ("gzip, gzip, gzip, gzip, gzip",), "text/html", id="deep"
        ),
        pytest.param(PAGE, (), "text/html; charset=UTF-16", id="utf-16"),
        pytest.param(PAGE, (), 'text/html; charset="utf-32le"', id="utf-32"),
        pytest.param(PAGE, (), "text/html; charset=unicode", id="utf-16-alias"),
        pytest.param(PAGE, (), "text/html;charset=ISO-2022-JP", id="iso-2022-jp"),
        pytest.param(b"\xff\xfe" + PAGE, (), "text/html; charset=utf-8", id="bom-against-header"),
        pytest.param(b"\xfe\xff" + PAGE, (), "text/html", id="bom-utf-16be"),
        pytest.param(b"\x1b$B" + PAGE, (), "text/html", id="iso-2022-escape"),
        pytest.param(gzip.compress(PAGE)[:10] + b"\xff" * 50, ("gzip",), "text/html", id="corrupt"),
    ],
)
@pytest.mark.parametrize("size", [1, 50])
def test_unreadable_pages_are_a_502_with_one_error(
    make_gate: Gate,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    codings: tuple[str, ...],
    content_type: str,
    size: int,
) -> None:
    app = encoded_app(body, *codings, content_type=content_type, size=size)
    client = Client(make_gate(app, max_inflated=1 << 20))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 502
    assert NOT_CHECKED in response.data and b"googletagmanager" not in response.data
    assert response.headers["Cache-Control"] == "no-store"
    assert len(errors(caplog)) == 1 and "answered 502" in errors(caplog)[0]


@pytest.mark.parametrize(
    "escape",
    [
        pytest.param(b"\x1b(J", id="escape"),
        pytest.param(b"\x1b$B", id="escape-split"),
    ],
)
def test_an_escape_found_late_ends_the_page(
    make_gate: Gate, caplog: pytest.LogCaptureFixture, escape: bytes
) -> None:
    app = encoded_app(PAGE + escape + GTAG, size=len(PAGE) + 1)
    client = Client(make_gate(app))
    refuse(client)
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 200
    assert response.data.startswith(GATED) and b"googletagmanager" not in response.data
    assert len(errors(caplog)) == 1 and "dropped" in errors(caplog)[0]


@pytest.mark.parametrize(
    ("codings", "encode"),
    [
        pytest.param(("gzip",), gzip.compress, id="gzip"),
        pytest.param(("br",), brotli.compress, id="brotli"),
        pytest.param(("zstd",), zstd.compress, id="zstd"),
        pytest.param(
            ("gzip", "gzip"), lambda data: gzip.compress(gzip.compress(data)), id="stacked"
        ),
    ],
)
def test_a_bomb_ends_the_compressed_page(
    make_gate: Gate,
    caplog: pytest.LogCaptureFixture,
    codings: tuple[str, ...],
    encode: Callable[[bytes], bytes],
) -> None:
    body = encode(PAGE + b" " * (3 << 20) + GTAG)
    app = encoded_app(body, *codings, size=100)
    client = Client(make_gate(app, max_inflated=1 << 20))
    refuse(client)
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        data = client.get("/").data
    for _ in codings:
        data = DECODERS[codings[0]](data)
    assert data.startswith(GATED) and b"googletagmanager" not in data
    assert len(errors(caplog)) == 1 and "max_inflated" in errors(caplog)[0]


def test_an_escape_is_ascii_when_the_header_says_utf8(make_gate: Gate) -> None:
    body = b"<pre>\x1b$B\x1b(B</pre>" + PAGE
    client = Client(make_gate(encoded_app(body, content_type="text/html; charset=utf-8")))
    refuse(client)
    assert client.get("/").data == body.replace(GTAG, b"\n\n")


@pytest.mark.parametrize(
    ("body", "codings", "content_type"),
    [
        pytest.param(PAGE, ("compress",), "text/html", id="unknown-coding"),
        pytest.param(PAGE, (), "text/html; charset=utf-16", id="utf-16"),
        pytest.param(b"\xff\xfe" + PAGE, (), "text/html", id="bom"),
    ],
)
def test_unreadable_pass_lets_them_through_with_a_warning(
    make_gate: Gate,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    codings: tuple[str, ...],
    content_type: str,
) -> None:
    app = encoded_app(body, *codings, content_type=content_type)
    client = Client(make_gate(app, unreadable="pass"))
    with caplog.at_level(logging.WARNING, logger="consentgate"):
        response = client.get("/")
    assert response.status_code == 200 and response.data == body
    assert not errors(caplog)
    assert len(caplog.records) == 1 and "through" in caplog.records[0].getMessage()


def test_unreadable_page_reaches_a_visitor_who_granted_everything(make_gate: Gate) -> None:
    client = Client(make_gate(encoded_app(PAGE, "compress"), consent_mode=False))
    client.post("/consent", data={"action": "accept_all"})
    response = client.get("/")
    assert response.status_code == 200 and response.data == PAGE


def test_unreadable_page_is_refused_when_the_consent_mode_default_is_due(
    make_gate: Gate,
) -> None:
    # Its Google tags would run with no default: as if every consent type were granted.
    client = Client(make_gate(encoded_app(PAGE, "compress")))
    client.post("/consent", data={"action": "accept_all"})
    assert client.get("/").status_code == 502


def test_head_of_an_unreadable_page_is_a_502_too(make_gate: Gate) -> None:
    response = Client(make_gate(encoded_app(PAGE, "compress"))).head("/")
    assert response.status_code == 502 and response.data == b""


@pytest.mark.parametrize(
    ("body", "codings", "status"),
    [
        pytest.param(gzip.compress(PAGE), ("gzip",), 200, id="gated"),
        pytest.param(PAGE, ("compress",), 502, id="refused-at-once"),
        pytest.param(b"\xff\xfe" + PAGE, (), 502, id="refused-at-first-byte"),
    ],
)
def test_gated_and_refused_pages_pass_wsgiref_validate(
    make_gate: Gate, body: bytes, codings: tuple[str, ...], status: int
) -> None:
    # wsgiref's WSGIWarning is turned into an error by the pytest configuration.
    app = validator(make_gate(validator(encoded_app(body, *codings, size=7))))
    with Client(app).get("/") as response:
        assert response.status_code == status and response.data


def test_without_the_optional_packages_only_gzip_and_deflate_are_read() -> None:
    code = (
        "import sys; sys.modules['brotli'] = sys.modules['backports.zstd'] = None\n"
        "from consentgate import encoding\n"
        "print(*sorted(encoding.READABLE), encoding.readable_accept_encoding('br, zstd, gzip'))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["deflate", "gzip", "x-gzip", "gzip"]


def test_brotli_is_unreadable_without_the_package(make_gate: Gate, without_brotli: None) -> None:
    response = Client(make_gate(encoded_app(brotli.compress(PAGE), "br"))).get("/")
    assert response.status_code == 502


def test_inflating_is_bounded_per_step() -> None:
    fed: list[int] = []

    class Counter:
        def feed(self, data: bytes) -> bytes:
            fed.append(len(data))
            return b""

        def close(self) -> bytes:
            return b""

    body = b"<p>" + b" " * (20 * 1024 * 1024)
    for codings, encoded in [
        (("gzip",), gzip.compress(body)),
        (("br",), brotli.compress(body)),
        (("zstd",), zstd.compress(body)),
        (("gzip", "gzip"), gzip.compress(gzip.compress(body))),
    ]:
        fed.clear()
        recoder = Recoder(codings, lambda first: Counter(), limit=64 << 20)
        for chunk in chunked(encoded, 16 * 1024):
            recoder.feed(chunk)
        recoder.close()
        assert sum(fed) == len(body), codings
        assert max(fed) <= 512 * 1024, codings  # one step, as the decoder rounds it


def test_inflating_past_the_limit_is_unreadable() -> None:
    class Sink:
        def feed(self, data: bytes) -> bytes:
            return data

        def close(self) -> bytes:
            return b""

    recoder = Recoder(("zstd",), lambda first: Sink(), limit=1 << 20)
    with pytest.raises(Unreadable, match="max_inflated"):
        recoder.feed(zstd.compress(b" " * (2 << 20)))


# --- Accept-Encoding: the app is asked for what can be read -------------------


@pytest.mark.parametrize(
    ("header", "narrowed"),
    [
        pytest.param("gzip, deflate, br, zstd", "gzip, deflate, br, zstd", id="chromium"),
        pytest.param("gzip, deflate, br, zstd, dcb, dcz", "gzip, deflate, br, zstd", id="dict"),
        pytest.param("compress, gzip;q=0.5", "gzip;q=0.5", id="weights-kept"),
        pytest.param("*", "br, deflate, gzip, zstd", id="star"),
        pytest.param(
            "gzip;q=0, *;q=0.3", "gzip;q=0, br;q=0.3, deflate;q=0.3, zstd;q=0.3", id="star-q"
        ),
        pytest.param("br, *;q=0", "br, *;q=0", id="star-refused"),
        pytest.param("*;q=bad", "*;q=0", id="star-bad-weight"),
        pytest.param("identity;q=0, gzip", "identity;q=0, gzip", id="identity-kept"),
        pytest.param("sdch, xpress", "identity", id="nothing-left"),
        pytest.param("", "identity", id="empty"),
        pytest.param("gzip, " * 300, "identity", id="too-long"),
    ],
)
def test_accept_encoding_is_narrowed_to_readable_codings(header: str, narrowed: str) -> None:
    assert readable_accept_encoding(header) == narrowed


def test_accept_encoding_without_brotli(without_brotli: None) -> None:
    assert readable_accept_encoding("gzip, deflate, br, zstd") == "gzip, deflate, zstd"


def seen_accept_encoding(
    make_gate: Gate, action: str | None, header: str, **options: Any
) -> str | None:
    seen: list[str | None] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        seen.append(environ.get("HTTP_ACCEPT_ENCODING"))
        start_response("200 OK", [("Content-Type", "text/html")])
        return [PAGE]

    client = Client(make_gate(app, **options))
    if action:
        client.post("/consent", data={"action": action})
    client.get("/", headers={"Accept-Encoding": header})
    return seen[-1]


@pytest.mark.parametrize(
    ("action", "consent_mode", "narrowed"),
    [
        pytest.param(None, True, True, id="undecided"),
        pytest.param("reject_all", True, True, id="refused"),
        pytest.param("accept_all", True, True, id="accepted-consent-mode-default-due"),
        pytest.param("accept_all", False, False, id="accepted"),
    ],
)
def test_the_app_sees_the_narrowed_header_when_the_page_may_need_gating(
    make_gate: Gate, action: str | None, consent_mode: bool, narrowed: bool
) -> None:
    header = "gzip, deflate, br, zstd, dcb, dcz"
    seen = seen_accept_encoding(make_gate, action, header, consent_mode=consent_mode)
    assert seen == ("gzip, deflate, br, zstd" if narrowed else header)


def flask_compress_app() -> Any:
    from flask import Flask
    from flask_compress import Compress

    app = Flask(__name__)
    app.config["COMPRESS_MIN_SIZE"] = 0
    Compress(app)

    @app.get("/")
    def home() -> str:
        return PAGE.decode()

    return app


@pytest.mark.parametrize("brotli_installed", [True, False])
def test_flask_compress_pages_are_gated(
    make_gate: Gate, monkeypatch: pytest.MonkeyPatch, brotli_installed: bool
) -> None:
    if not brotli_installed:
        monkeypatch.setattr(encoding, "CODECS", {**encoding.CODECS})
        del encoding.CODECS["br"], encoding.CODECS["zstd"]
        monkeypatch.setattr(encoding, "READABLE", frozenset(encoding.CODECS))
        monkeypatch.setattr(encoding, "_narrowed", {})
    client = Client(make_gate(flask_compress_app()))
    response = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.status_code == 200
    coding = response.headers["Content-Encoding"]
    assert coding in encoding.CODECS
    page = DECODERS[coding](response.data)
    assert b"consentgate-banner" in page and b"googletagmanager" not in page
