"""The example's pages. None of them knows about consent: the gate takes out what the
visitor refused, and the templates ask ``{% if consent.analytics %}`` where they care."""

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The home page, with the site's analytics snippet in its layout."""
    return render(request, "home.html")


def analytics(request: HttpRequest) -> HttpResponse:
    """A page that also sets an analytics cookie from the server (refused ones never go out)."""
    response = render(request, "analytics.html")
    response.set_cookie("_ga", "GA1.1.example", max_age=3600)
    return response


def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy page, with the cookie declaration generated from the settings."""
    return render(request, "privacy.html")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    """A page streamed in pieces: the gate rewrites it as it streams."""

    def pieces() -> Iterator[str]:
        yield '<!DOCTYPE html><html lang="en"><head><title>Streamed</title>'
        yield '<script async src="https://www.googletagmanager.com/gtag/js?id=G-EXAMPLE">'
        yield "</script></head><body><h1>Streamed page</h1>"
        for n in range(3):
            yield f"<p>Piece {n}</p>"
        yield "</body></html>"

    return StreamingHttpResponse(pieces(), content_type="text/html; charset=utf-8")
