"""Compressed bodies: decode, gate and re-encode a response as it streams.

Apps (or compression middleware below the gate) may compress HTML themselves.
Bodies in ``gzip``, ``deflate``, ``br`` (with the ``brotli`` package) and
``zstd`` (with Python 3.14's ``compression.zstd`` or the ``backports.zstd``
package), stacked in any order, are decoded chunk by chunk, passed through the
gate and encoded again, so trackers hidden in a compressed page are still gated.

Decoding never holds more than one step of output per layer, and a body that
inflates past ``max_inflated`` bytes is refused: a small compressed bomb costs
bounded memory and CPU. What cannot be decoded raises :class:`Unreadable`.
On the request side, :func:`readable_accept_encoding` keeps the app from
choosing a coding that cannot be decoded here.
"""

from __future__ import annotations

import itertools
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

try:
    import brotli
except ImportError:  # the optional extra consentgate[brotli]
    brotli = None

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    try:
        from backports import zstd
    except ImportError:  # the optional extra consentgate[zstd]
        zstd = None  # type: ignore[assignment]

#: Most bytes one decoding step returns, so that a small bomb cannot grow memory.
_STEP = 256 * 1024
#: Most codings stacked in one Content-Encoding; real servers apply one.
_MAX_LAYERS = 4
#: Longest Accept-Encoding read; browsers send well under 100 characters.
_MAX_ACCEPT = 1024
#: zstd window limit (2**23 bytes, 8 MiB), as RFC 8878 asks of HTTP decoders.
_ZSTD_WINDOW_LOG = 23
#: brotli quality for re-encoding: quick enough to stream (11, the default, is not).
_BROTLI_QUALITY = 5


class Unreadable(Exception):
    """The body cannot be read safely; the message says why, for the log."""

    #: What ends the body cleanly once part of it was sent (a compressed stream's end).
    tail = b""


class Feeder(Protocol):
    """Anything that rewrites a stream: ``feed`` chunks, then ``close``."""

    def feed(self, data: bytes) -> bytes: ...

    def close(self) -> bytes: ...


class _Layer(Protocol):
    """One content coding: a bounded decoder and the matching encoder."""

    def decode(self, data: bytes, limit: int) -> bytes:
        """Take ``data`` and return about ``limit`` bytes of output at most; called
        with ``b""`` it returns what input already given still holds."""

    def encode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes:
        """End a block, so that what was encoded so far can be decoded now."""

    def finish(self) -> bytes: ...


class _Zlib:
    """``gzip`` (``x-gzip``) or ``deflate``, which browsers take zlib-wrapped or raw."""

    def __init__(self, coding: str) -> None:
        self.gzip = coding != "deflate"
        self._inflate: zlib._Decompress | None = None
        self._deflate: zlib._Compress | None = None
        self._head = self._tail = b""
        self._full = False  # the last output filled its limit: more may be pending

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._inflate is None:
            data, self._head = self._head + data, b""
            if len(data) < 2 and not self.gzip:  # the container shows in two bytes
                self._head = data
                return b""
            wbits = self._wbits(data)
            self._inflate = zlib.decompressobj(wbits)
            self._deflate = zlib.compressobj(6, zlib.DEFLATED, wbits)
        elif not (data or self._tail or self._full):
            return b""
        out = self._inflate.decompress(self._tail + data if self._tail else data, limit)
        self._tail = self._inflate.unconsumed_tail
        self._full = len(out) >= limit
        return out

    def encode(self, data: bytes) -> bytes:
        return self._deflate.compress(data) if self._deflate is not None else b""

    def flush(self) -> bytes:
        return self._deflate.flush(zlib.Z_SYNC_FLUSH) if self._deflate is not None else b""

    def finish(self) -> bytes:
        return self._deflate.flush() if self._deflate is not None else b""

    def _wbits(self, first: bytes) -> int:
        if self.gzip:
            return 16 + zlib.MAX_WBITS
        if first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0:
            return zlib.MAX_WBITS
        return -zlib.MAX_WBITS


class _Brotli:
    """``br``, with the ``brotli`` package (1.2 or later bounds its output)."""

    def __init__(self, coding: str) -> None:
        self._decoder: Any = brotli.Decompressor()
        self._encoder: Any = brotli.Compressor(quality=_BROTLI_QUALITY)
        self._waiting = b""

    def decode(self, data: bytes, limit: int) -> bytes:
        self._waiting += data
        if not self._decoder.can_accept_more_data():  # output is still pending
            return bytes(self._decoder.process(b"", output_buffer_limit=limit))
        data, self._waiting = self._waiting, b""
        return bytes(self._decoder.process(data, output_buffer_limit=limit))

    def encode(self, data: bytes) -> bytes:
        return bytes(self._encoder.process(data)) if data else b""

    def flush(self) -> bytes:
        return bytes(self._encoder.flush())

    def finish(self) -> bytes:
        return bytes(self._encoder.finish())


class _Zstd:
    """``zstd``, frame after frame, with a window of at most 8 MiB."""

    def __init__(self, coding: str) -> None:
        self._decoder = self._new_decoder()
        self._encoder = zstd.ZstdCompressor()

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._decoder.eof:  # a stream may hold several frames
            data = self._decoder.unused_data + data
            if not data:
                return b""
            self._decoder = self._new_decoder()
        elif not data and self._decoder.needs_input:
            return b""
        return self._decoder.decompress(data, limit)

    def encode(self, data: bytes) -> bytes:
        return self._encoder.compress(data) if data else b""

    def flush(self) -> bytes:
        return self._encoder.flush(zstd.ZstdCompressor.FLUSH_BLOCK)

    def finish(self) -> bytes:
        return self._encoder.flush(zstd.ZstdCompressor.FLUSH_FRAME)

    @staticmethod
    def _new_decoder() -> zstd.ZstdDecompressor:
        return zstd.ZstdDecompressor(
            options={zstd.DecompressionParameter.window_log_max: _ZSTD_WINDOW_LOG}
        )


def _codecs() -> dict[str, Callable[[str], _Layer]]:
    codecs: dict[str, Callable[[str], _Layer]] = {"gzip": _Zlib, "x-gzip": _Zlib, "deflate": _Zlib}
    if brotli is not None and hasattr(brotli.Decompressor, "can_accept_more_data"):
        codecs["br"] = _Brotli
    if zstd is not None:
        codecs["zstd"] = _Zstd
    return codecs


#: Content codings the gate decodes and encodes again, with their layer's class.
CODECS = _codecs()
#: Their names, as the Accept-Encoding sent to the app may list them.
READABLE = frozenset(CODECS)
_ERRORS: tuple[type[Exception], ...] = (
    zlib.error,
    EOFError,
    *((brotli.error,) if "br" in CODECS else ()),
    *((zstd.ZstdError,) if "zstd" in CODECS else ()),
)


def content_codings(header: str) -> tuple[str, ...] | None:
    """The codings of a ``Content-Encoding`` value in the order they were applied.

    ``identity`` and empty items are no codings; None means one cannot be decoded
    here (or too many are stacked).
    """
    single = header.strip().lower()
    if single in CODECS:  # what servers send
        return (single,)
    codings = tuple(c for c in (i.strip().lower() for i in header.split(",")) if c)
    codings = tuple(c for c in codings if c != "identity")
    if len(codings) > _MAX_LAYERS or any(c not in CODECS for c in codings):
        return None
    return codings


class Recoder:
    """Wrap a :class:`Feeder` so that it sees decoded bytes and returns encoded ones.

    :param codings: the body's content codings, as :func:`content_codings` gives them.
    :param gate: builds the gate that works on the decoded bytes, given their first
        piece (so that it can look at them first).
    :param limit: the most bytes any layer may inflate to; past it :class:`Unreadable`.
    """

    def __init__(
        self, codings: tuple[str, ...], gate: Callable[[bytes], Feeder], limit: int
    ) -> None:
        self.gate = gate
        self.inner: Feeder | None = None
        self.limit = limit
        #: Layers in the order they were applied: encode through them in this order.
        self.layers = [CODECS[coding](coding) for coding in codings]
        self._sizes = [0] * len(self.layers)

    def feed(self, data: bytes) -> bytes:
        """Decode ``data``, gate it, and return it encoded again."""
        return self._recode(data, final=False) if data else b""

    def close(self) -> bytes:
        """Decode what is still waiting, flush the gate and end the encoded stream."""
        return self._recode(b"", final=True)

    def _recode(self, data: bytes, final: bool) -> bytes:
        out = []
        try:
            for plain in self._decoded(data, final):
                gated = (self.inner or self._start(plain)).feed(plain)
                if gated:
                    out.append(self._encode(gated))
            if final:
                out.append(self._encode((self.inner or self._start(b"")).close()))
        except Unreadable as error:
            # What was encoded is in the encoders' state: send it, and end the stream.
            error.tail = b"".join(out) + self._end(final=True)
            raise
        if out:  # flush, so that the browser can render what was sent
            out.append(self._end(final))
        return b"".join(out)

    def _start(self, first: bytes) -> Feeder:
        self.inner = self.gate(first)
        return self.inner

    def _decoded(self, data: bytes, final: bool) -> Iterator[bytes]:
        """Decoded pieces of ``data``, undoing the last coding applied first."""
        pieces: Iterable[bytes] = (data,)
        for depth in range(len(self.layers) - 1, -1, -1):
            pieces = self._steps(depth, pieces, final)
        return iter(pieces)

    def _steps(self, depth: int, data: Iterable[bytes], final: bool) -> Iterator[bytes]:
        """Decode through one layer, a bounded step at a time; at the end, drain it."""
        layer = self.layers[depth]
        try:
            for chunk in itertools.chain(data, (b"",) if final else ()):
                out = layer.decode(chunk, _STEP)
                while out:
                    self._sizes[depth] += len(out)
                    if self._sizes[depth] > self.limit:
                        raise Unreadable(f"the body inflates past max_inflated ({self.limit})")
                    yield out
                    out = layer.decode(b"", _STEP)
        except _ERRORS as error:
            raise Unreadable(f"the compressed body does not decode ({error})") from None

    def _encode(self, data: bytes) -> bytes:
        for layer in self.layers:
            if not data:
                break
            data = layer.encode(data)
        return data

    def _end(self, final: bool) -> bytes:
        """Flush every layer, the first applied first, so the bytes so far decode."""
        data = b""
        for layer in self.layers:
            data = layer.encode(data) + (layer.finish() if final else layer.flush())
        return data


def readable_accept_encoding(header: str) -> str:
    """``header`` with only the codings this gate decodes, for the app to choose from.

    Listed codings keep their weights; ``*`` becomes the readable codings it
    stood for; nothing left (or a header too long to read) means ``identity``.
    Browsers send few distinct values, so the answers are remembered.
    """
    narrowed = _narrowed.get(header)
    if narrowed is None:
        if len(header) > _MAX_ACCEPT:
            return "identity"
        narrowed = _narrow(header, READABLE)
        if len(_narrowed) >= 64:
            _narrowed.clear()
        _narrowed[header] = narrowed
    return narrowed


#: Accept-Encoding values already narrowed (:data:`READABLE` does not change).
_narrowed: dict[str, str] = {}


def _narrow(header: str, readable: frozenset[str]) -> str:
    kept: list[str] = []
    listed: set[str] = set()
    star = ""
    for item in header.split(","):
        coding, _, weight = item.partition(";")
        coding = coding.strip().lower()
        listed.add(coding)
        if coding == "*":
            star = weight.strip()
        elif coding in readable or coding == "identity":
            kept.append(item.strip())
    if star and _refused(star):
        kept.append("*;q=0")
    elif "*" in listed:
        suffix = f";{star}" if star else ""
        kept += [f"{c}{suffix}" for c in sorted(readable - listed) if c != "x-gzip"]
    return ", ".join(kept) or "identity"


def _refused(weight: str) -> bool:
    """Whether a ``q=`` parameter is zero (or unreadable, which is taken as zero)."""
    name, _, value = weight.partition("=")
    try:
        return name.strip().lower() != "q" or float(value.strip()[:5]) <= 0
    except ValueError:
        return True
