"""Middleware that holds for every response, page or API.

``HeadWithoutBodyMiddleware`` (first in MIDDLEWARE, so it sees the final
response): a HEAD answer carries no body, whatever the view returned.
Django answers HEAD with the GET view, and plain views (the tus endpoint)
build error bodies for HEAD too; WSGI servers such as waitress send what the
application gives them, and a client reading a HEAD answer reads no body,
so the stray bytes were taken as the start of the next answer on a
keep-alive connection (tus clients resume with HEAD). Headers are kept,
Content-Length included (RFC 9110 §9.3.2: the length a GET would have).

``BadInputMiddleware``: a :class:`sanxiang.core.parsing.BadInput` raised by
a page view (an id or number that is not one, JSON nested too deep …)
answers 400 with its Chinese message; under /api/ the answer is JSON
``{code, field, message}`` like every API error. A path, query string or
URL-encoded form field holding NUL (``%00``: PostgreSQL text cannot hold
it, DataError) is refused the same way before any view runs.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render

from .parsing import BadInput, check_text


class HeadWithoutBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "HEAD":
            strip_body(response)
        return response


def strip_body(response) -> None:
    """Empty a response's body in place, headers kept. A streamed body is
    not read; its file is closed with the response, as usual."""
    if getattr(response, "streaming", False):
        response.streaming_content = iter(())
    else:
        length = response.get("Content-Length")
        response.content = b""
        if length is not None:
            response["Content-Length"] = length


class BadInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            check_text(request.path_info, field="path")
            fields = [request.GET]
            if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
                fields.append(request.POST)  # views read some fields raw (reasons, serials) past any form
            for data in fields:
                for key, values in data.lists():
                    check_text(key, field=key[:40])
                    for value in values:
                        check_text(value, field=key[:40])
        except BadInput as exc:
            return bad_input_response(request, exc)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, BadInput):
            return None
        return bad_input_response(request, exception)


def bad_input_response(request, exc: BadInput) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(json.dumps(exc.body(), ensure_ascii=False), status=exc.status,
                            content_type="application/json; charset=utf-8")
    return render(request, "core/bad_input.html", {"error": exc}, status=exc.status)
