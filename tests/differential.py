"""The documents and chunkings on which the compiled and pure gates must agree.

``python -m tests.differential`` prints, as JSON, the SHA-256 of the gate's output for
each document at each chunk size; ``tests/test_speedups.py`` runs it once as is and once
with ``CONSENTGATE_PURE=1`` and compares. The documents: every html5lib-tests document
with trackers placed in it, and the shared corpus where it exists.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.test_conformance import BANNER, gate_cut
from tests.test_html5lib_data import tokenizer, tree_construction, with_trackers

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
#: The Consent Mode default's shape, inserted before the first script.
FIRST = b"<script>gtag('consent','default',{})</script>"
#: The chunk sizes compared (0: the whole document in one feed).
CHUNKS = (1, 1024, 16 * 1024, 0)
#: 1-byte chunks feed only this much of each corpus page (the whole corpus byte by byte
#: takes minutes); the other sizes feed whole pages.
ONE_BYTE_PREFIX = 32 * 1024


def _chunk_boundaries() -> Iterator[tuple[str, bytes]]:
    """Documents whose chunk boundaries fall where the gate carries state from one chunk to
    the next without reading it again: inside a long kept raw text (passed on as it came)
    and its end tag, and inside a long tag the skipper passes unseen."""
    css = b".a > b { c: d } /* </styl */ " * 700
    value = b"[{&quot;u&quot;:&quot;https://www.google-analytics.com/a.js&quot;}]" * 40
    for lead in (b"", b"<p>" + b"x" * 900):
        yield "chunks:style", lead + b"<style>" + css + b"</style ><p>a</p>"
        yield "chunks:script", lead + b"<script src=a.js>x='<!--" + css + b"--></script><p>a"
        yield "chunks:quiet-tag", lead + b'<input type=hidden value="' + value + b'"><img src=x>'


def documents() -> Iterator[tuple[str, bytes]]:
    """(name, document) for every document compared."""
    for kind, found in (("tree", tree_construction()), ("tokenizer", tokenizer())):
        for ident, text in found:
            yield f"{kind}:{ident}", with_trackers(text)
    for i, (name, doc) in enumerate(_chunk_boundaries()):
        yield f"{name}:{i}", doc
    if CORPUS.is_dir():
        for page in sorted(CORPUS.glob("*/*.html")):
            yield f"corpus:{page.parent.name}/{page.name}", page.read_bytes()


def digests() -> dict[str, str]:
    """The SHA-256 of the gate's output, per document and chunk size.

    Every other document also gets the markup meant to run first (:data:`FIRST`), so that
    both ways the gate waits for a place to insert are compared.
    """
    out = {}
    for i, (name, doc) in enumerate(documents()):
        options = {"first": FIRST} if i % 2 else {}
        for size in CHUNKS:
            data = doc[:ONE_BYTE_PREFIX] if size == 1 and name.startswith("corpus") else doc
            step = size or max(len(data), 1)
            got = gate_cut(data, range(0, len(data), step), BANNER, **options)
            out[f"{name}@{size}"] = hashlib.sha256(got).hexdigest()
    return out


if __name__ == "__main__":
    json.dump(digests(), sys.stdout)
