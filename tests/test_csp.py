"""The CSP nonce helper: what the gate writes into the inline scripts and styles it adds."""

from __future__ import annotations

from typing import Any

import pytest

from consentgate.csp import CSP_NONCE, header_nonce, nonce_attr, nonce_of


@pytest.mark.parametrize(
    ("environ", "attr"),
    [
        pytest.param({CSP_NONCE: "r4nd0m+/_-="}, ' nonce="r4nd0m+/_-="', id="base64"),
        pytest.param({}, "", id="none-given"),
        pytest.param({CSP_NONCE: ""}, "", id="empty"),
        pytest.param({CSP_NONCE: b"bytes"}, "", id="not-a-string"),
        pytest.param({CSP_NONCE: None}, "", id="none"),
        pytest.param(
            {CSP_NONCE: '"><script>alert(1)</script>'},
            ' nonce="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"',
            id="escaped",
        ),
    ],
)
def test_nonce_attr(environ: dict[str, Any], attr: str) -> None:
    assert nonce_attr(environ) == attr


def test_nonce_of_gives_the_raw_value() -> None:
    assert nonce_of({CSP_NONCE: "a&b"}) == "a&b"
    assert nonce_of({}) == ""


CSP = "Content-Security-Policy"


@pytest.mark.parametrize(
    ("headers", "nonce"),
    [
        pytest.param([(CSP, "script-src 'nonce-abc'; style-src 'nonce-abc'")], "abc", id="script"),
        pytest.param([(CSP, "default-src 'self' 'nonce-d3f=='")], "d3f==", id="default-src"),
        pytest.param(
            [(CSP, "default-src 'nonce-d'; script-src 'self' 'nonce-s'")], "s", id="script-wins"
        ),
        pytest.param(
            [("content-security-policy", "img-src *"), (CSP, "SCRIPT-SRC 'nonce-x'")],
            "x",
            id="second-header",
        ),
        pytest.param([(CSP, "script-src 'self'")], "", id="no-nonce"),
        pytest.param([(CSP, "style-src 'nonce-only-styles'")], "", id="styles-only"),
        pytest.param([(CSP, "script-src 'nonce-a\"b'")], "", id="not-base64"),
        pytest.param(
            [("Content-Security-Policy-Report-Only", "script-src 'nonce-r'")], "", id="report-only"
        ),
        pytest.param([], "", id="no-policy"),
    ],
)
def test_header_nonce(headers: list[tuple[str, str]], nonce: str) -> None:
    assert header_nonce(headers) == nonce
