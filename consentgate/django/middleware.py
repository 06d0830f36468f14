"""ConsentGateMiddleware: the gate as a Django middleware, under WSGI and ASGI.

Put it first in ``MIDDLEWARE``, so that it sees every cookie the others set
(sessions, CSRF, messages) and the app sees the request as the gate changed it:

.. code-block:: python

    MIDDLEWARE = ["consentgate.django.middleware.ConsentGateMiddleware", ...]

It reads the visitor's consent into ``request.META`` (``consentgate.consent``),
then hands the response to a :class:`~consentgate.passage.Passage` of the core:
``Set-Cookie`` of refused categories is dropped, refused request cookies are
expired, and HTML, ``StreamingHttpResponse`` included, goes through the
rewriter chunk by chunk as it streams. The banner, rendered from the site's
``consentgate/banner.html``, is injected in HTML pages except on the admin site
(and ``exclude_paths``). It is sync and async capable as Django documents, so an
ASGI Django keeps its async middleware chain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from ..csp import CSP_NONCE, header_nonce
from ..http import HTML_TYPES
from ..site_pages import BANNER_PLACED, prepare_banner
from .conf import current
from .render import page_renderer, placeholder_renderer, use_app_language
from .responses import apply_head, head_of

if TYPE_CHECKING:
    from ..passage import Head, Passage

GetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]
#: The app's body, then what of it has been sent on so far.
Opened = tuple["Head", list[bytes]]


class ConsentGateMiddleware:
    """Gate every response of a Django site; see the module's docstring."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        passage = _admit(request)
        response: HttpResponseBase = self.get_response(request)  # type: ignore[assignment]
        if _is_html(response):
            _prepare_page(request, response)
        head, untouched = _start(passage, response)
        if head is not None:
            return _answer(passage, response, head, [], iter(()), untouched)
        if isinstance(response, StreamingHttpResponse) and response.is_async:
            # Served by WSGI Django, which reads an async body whole, in one event loop
            # (an async generator is bound to the loop that started it): so is it here.
            chunks = iter(async_to_sync(_collect)(response.streaming_content))
            response.streaming_content = chunks
        else:
            chunks = iter(_body(response))
        head, sent = _open(passage, chunks)
        return _answer(passage, response, head, sent, _rest(passage, chunks))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        passage = _admit(request)
        response = await self.get_response(request)  # type: ignore[misc]
        if _is_html(response):
            # The site's templates and context processors may query the database.
            await sync_to_async(_prepare_page, thread_sensitive=True)(request, response)
        head, untouched = _start(passage, response)
        if head is not None:
            return _answer(passage, response, head, [], iter(()), untouched)
        if isinstance(response, StreamingHttpResponse) and response.is_async:
            chunks: Any = aiter(response.streaming_content)  # type: ignore[arg-type]
            head, sent = await _aopen(passage, chunks)
            return _answer(passage, response, head, sent, _arest(passage, chunks))
        chunks = iter(_body(response))
        if isinstance(response, StreamingHttpResponse):
            # The app's iterator may query the database: never on the event loop.
            head, sent = await sync_to_async(_open, thread_sensitive=True)(passage, chunks)
        else:
            head, sent = _open(passage, chunks)
        return _answer(passage, response, head, sent, _rest(passage, chunks))


def _admit(request: HttpRequest) -> Passage:
    """The request's consent into ``request.META``, and its response's passage.

    Django puts the decoded path and mount prefix in ``META["PATH_INFO"]`` and
    ``META["SCRIPT_NAME"]`` (``FORCE_SCRIPT_NAME`` included); the core reads them as
    PEP 3333 has them (the UTF-8 bytes as Latin-1), so a non-ASCII one is written back
    in that form. Django itself reads ``request.path_info`` and ``request.path``.
    """
    environ = request.META
    for key in ("PATH_INFO", "SCRIPT_NAME"):
        value = environ.get(key, "")
        if not value.isascii():
            environ[key] = value.encode("utf-8", "surrogateescape").decode("latin-1")
    passage = current().gate.admit(environ)
    assert passage is not None  # the app serves the endpoint itself (serve_endpoint=False)
    return passage


def _is_html(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").lower().startswith(HTML_TYPES)


def _start(passage: Passage, response: HttpResponseBase) -> tuple[Head | None, bool]:
    """Give the passage the response's head: the head to send now (None when it waits
    for the first byte of a gated body), and whether it is the response's own."""
    status, headers = head_of(response)
    head = passage.start(status, headers)
    return head, head is not None and head[1] is headers


def _prepare_page(request: HttpRequest, response: HttpResponseBase) -> None:
    """Render the banner from the site's templates (none on the admin site), hand the
    page's language to the core, and let placeholders render from the site's templates."""
    environ = request.META
    if CSP_NONCE not in environ:  # the site's policy (django-csp, say), for the banner too
        environ[CSP_NONCE] = header_nonce(response.items())
    use_app_language(request)
    environ["consentgate.placeholder"] = placeholder_renderer()
    match = request.resolver_match
    if match is not None and "admin" in match.app_names:
        environ[BANNER_PLACED] = True
    else:
        prepare_banner(current().gate, environ, page_renderer(request))


def _body(response: HttpResponseBase) -> Iterable[bytes]:
    """The body of a response whose chunks are read in this thread."""
    if isinstance(response, StreamingHttpResponse):
        return response.streaming_content  # type: ignore[return-value]
    if isinstance(response, HttpResponse):
        return (response.content,)
    raise TypeError(f"cannot read the body of {type(response).__name__}")


async def _collect(chunks: Any) -> list[bytes]:
    return [chunk async for chunk in chunks]


def _open(passage: Passage, chunks: Iterator[bytes]) -> Opened:
    """Feed the app's chunks until the head is due: it goes out with the first byte."""
    sent: list[bytes] = []
    for chunk in chunks:
        head, out = passage.feed(chunk)
        sent.append(out)
        if head is not None:
            return head, sent
    head, out = passage.finish()
    assert head is not None  # the passage's end always brings a head still due
    return head, [*sent, out]


async def _aopen(passage: Passage, chunks: AsyncIterator[bytes]) -> Opened:
    """:func:`_open` for an async iterator."""
    sent: list[bytes] = []
    async for chunk in chunks:
        head, out = passage.feed(chunk)
        sent.append(out)
        if head is not None:
            return head, sent
    head, out = passage.finish()
    assert head is not None
    return head, [*sent, out]


def _rest(passage: Passage, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The rest of the body, after the head went out."""
    if not passage.ended:
        for chunk in chunks:
            out = passage.feed(chunk).body
            if out:
                yield out
            if passage.ended:
                break
    out = passage.finish().body
    if out:
        yield out


async def _arest(passage: Passage, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """:func:`_rest` for an async iterator."""
    if not passage.ended:
        async for chunk in chunks:
            out = passage.feed(chunk).body
            if out:
                yield out
            if passage.ended:
                break
    out = passage.finish().body
    if out:
        yield out


def _answer(
    passage: Passage,
    response: HttpResponseBase,
    head: Head,
    sent: list[bytes],
    rest: Iterator[bytes] | AsyncIterator[bytes],
    untouched: bool = False,
) -> HttpResponseBase:
    """The response with the gate's head and, unless it passes untouched, its body.

    A page refused (``502``) keeps its response object, so that Django still closes
    what the app opened for it; its body becomes the core's page.
    """
    if passage.passes and not sent:
        return response if untouched else apply_head(response, head)
    if not head[0].startswith(f"{response.status_code} "):
        sent, rest = [b"".join(sent), passage.finish().body], iter(())
    apply_head(response, head)
    if isinstance(response, StreamingHttpResponse):
        # The body stays of the kind the app gave: Django serves each kind natively.
        if response.is_async:
            response.streaming_content = _prefixed(sent, rest)
        else:
            assert isinstance(rest, Iterator)
            response.streaming_content = chain(sent, rest)
    elif isinstance(response, HttpResponse):
        assert isinstance(rest, Iterator)
        body = b"".join(chain(sent, rest))
        response.content = body
        if response.status_code not in (204, 304):
            response.headers["Content-Length"] = str(len(body))
    return response


async def _prefixed(
    sent: list[bytes], rest: Iterator[bytes] | AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """What was sent so far, then the rest, as one async iterator."""
    for chunk in sent:
        if chunk:
            yield chunk
    if isinstance(rest, Iterator):  # nothing more: a refused page
        for chunk in rest:
            yield chunk
        return
    async for chunk in rest:
        yield chunk
