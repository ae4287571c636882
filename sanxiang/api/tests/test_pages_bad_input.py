"""Every page URL, GET with hostile query strings and ids out of range, as an
anonymous visitor and as a logged-in officer: no answer is a 5xx."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import RoutePattern, URLPattern, URLResolver

BIG = "99999999999999999999999"
QUERIES = [
    f"?page=¹²&agency={BIG}&v=¹²&case={BIG}&step=-1&report=x&rule=publicity.licence_publication_limit&start=9999-12-31&end=x&from=9999-12-31&to=%ff",
    f"?page={BIG}&agency=¹²&region=%E2%80%AE&kind=x&category=x&sort=x&scope=mine&status=x&fmt=x&headers=x",
    "?q=%00", "?number=%00",
]


def page_urls(id_value: str) -> list[str]:
    urls = []

    def walk(patterns, prefix: str):
        for p in patterns:
            if isinstance(p, URLResolver):
                route = getattr(p.pattern, "_route", None)
                if route is None or route.startswith(("admin/", "api/")):
                    continue
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and isinstance(p.pattern, RoutePattern):
                route = prefix + p.pattern._route
                if route.startswith(("admin/", "api/", "logout")):
                    continue
                url = re.sub(r"<id:[^>]+>", id_value, route)
                url = re.sub(r"<(slug|str|path):[^>]+>", "x", url)
                urls.append("/" + url)

    walk(get_resolver().url_patterns, "")
    return sorted(set(urls))


@pytest.mark.parametrize("who", ["anonymous", "officer"])
def test_no_page_answers_5xx_to_hostile_query_strings_or_ids(world, who):
    c = Client(raise_request_exception=False)
    if who == "officer":
        c.force_login(world.u_changan)
    failures = []
    urls = page_urls("1") + page_urls(BIG)
    assert len(urls) > 40
    for url in urls:
        for query in QUERIES:
            r = c.get(url + query)
            if r.status_code >= 500:
                failures.append((r.status_code, url + query))
    assert not failures, failures
