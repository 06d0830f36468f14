"""Compressed bodies: decode, gate and re-encode a response as it streams.

Apps (or middleware below the gate) may compress HTML themselves. gzip and
deflate bodies are inflated chunk by chunk, passed through the gate and
compressed again, so trackers hidden in a compressed page are still gated
and memory stays bounded. Other encodings are not touched at all.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Protocol

#: Encodings the gate can decode and encode again.
SUPPORTED = frozenset({"gzip", "x-gzip", "deflate"})
#: Charsets that are not ASCII-compatible, so byte patterns cannot be matched.
UNSUPPORTED_CHARSETS = ("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs2")
#: Most bytes inflated from one call, so a small bomb cannot grow memory.
_INFLATE_STEP = 256 * 1024


class Feeder(Protocol):
    """Anything that rewrites a stream: ``feed`` chunks, then ``close``."""

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


def unsupported_reason(content_type: str, encoding: str) -> str | None:
    """Why a response must pass through ungated, or None when it can be gated."""
    if encoding and encoding != "identity" and encoding not in SUPPORTED:
        return f"Content-Encoding {encoding!r} cannot be decoded; passed through ungated"
    params = content_type.lower().partition(";")[2]
    if "16" not in params and "32" not in params and "ucs" not in params:
        return None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key == "charset" and value.strip("\"' ").startswith(UNSUPPORTED_CHARSETS):
            return f"charset {value.strip()!r} is not ASCII-compatible; passed through ungated"
    return None


class Recoder:
    """Wrap a :class:`Feeder` so that it sees and returns an encoded body.

    :param encoding: ``gzip``, ``x-gzip`` or ``deflate``.
    :param inner: the gate that works on the decoded bytes.
    :param warn: told once if the body turns out not to decode.
    """

    def __init__(self, encoding: str, inner: Feeder, warn: Callable[[str], None]) -> None:
        self.inner = inner
        self.warn = warn
        self.gzip = encoding != "deflate"
        self._inflate: zlib._Decompress | None = None
        self._deflate: zlib._Compress | None = None
        self.broken = False

    def feed(self, data: bytes) -> bytes:
        """Inflate ``data``, gate it, and return it deflated again."""
        if self.broken or not data:
            return b""
        if self._inflate is None:
            self._start(data)
        assert self._inflate is not None and self._deflate is not None
        out = []
        try:
            plain = self._inflate.decompress(data, _INFLATE_STEP)
            while True:
                out.append(self._deflate.compress(self.inner.feed(plain)))
                tail = self._inflate.unconsumed_tail
                if not tail:
                    break
                plain = self._inflate.decompress(tail, _INFLATE_STEP)
        except zlib.error as error:
            self.broken = True
            self.warn(f"compressed body does not decode ({error}); the rest was dropped")
            return b"".join(out)
        out.append(self._deflate.flush(zlib.Z_SYNC_FLUSH))
        return b"".join(out)

    def close(self) -> bytes:
        """Flush the gate and end the compressed stream."""
        if self.broken or self._deflate is None:
            return b""
        return self._deflate.compress(self.inner.close()) + self._deflate.flush()

    def _start(self, first: bytes) -> None:
        """Pick the container: gzip, zlib-wrapped deflate, or raw deflate."""
        if self.gzip:
            wbits = 16 + zlib.MAX_WBITS
        elif len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0:
            wbits = zlib.MAX_WBITS
        else:
            wbits = -zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(wbits)
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, wbits)
