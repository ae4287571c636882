"""Searching the published inspection results (公示-15): the portal's
抽查检查结果 page and GET /api/v1/inspections/results take ``q`` (an object's
name or the inspection item); a query finds what matches and nothing else,
and an odd query is answered, never a server error."""

from __future__ import annotations

import pytest
from django.test import Client

from sanxiang.core import clock
from sanxiang.inspections import services
from sanxiang.inspections.models import Inspection, InspectionResult

ODD = ["x" * 5000, "%", "_", "%%%___", "!!!...,,,;;;", "' OR '1'='1", "'; DROP TABLE inspections_inspection; --",
       "\\", "\u202e", "🙂", "   "]


@pytest.fixture
def published(drawn):
    """Three results published: the drawn objects of tier D that are units
    (all of tier D are drawn at ratio 1)."""
    rows = list(Inspection.objects.filter(draw=drawn.draw, object__risk_tier="D", object__natural_person=False)
                .select_related("object").order_by("object__name"))
    assert len(rows) == 3
    for row in rows:
        services.record_result(actor=drawn.u_changan, inspection=row, result=InspectionResult.NO_PROBLEM,
                               inspected_on=clock.today(), note="")
    drawn.published = rows
    return drawn


def _page(q):
    response = Client().get("/inspections/results/", {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def _api(q):
    response = Client().get("/api/v1/inspections/results", {"q": q})
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_a_search_finds_the_matching_result_and_not_the_others(published):
    wanted, *others = published.published
    key = wanted.object.name.removeprefix("长安区").removesuffix("有限公司")  # e.g. 第11超市
    page = _page(key)
    assert wanted.object.name in page and not any(o.object.name in page for o in others)
    body = _api(key)
    assert body["count"] == 1 and body["items"][0]["object"] == wanted.object.name
    # By the inspection item: every result of the batch.
    item = wanted.draw.batch.item_name
    assert _api(item)["count"] == 3
    assert all(o.object.name in _page(item) for o in published.published)
    # Nothing matches: nothing listed.
    assert _api("不存在的对象")["count"] == 0
    assert not any(o.object.name in _page("不存在的对象") for o in published.published)


@pytest.mark.parametrize("q", ODD, ids=lambda q: repr(q[:12]))
def test_an_odd_search_is_answered_without_a_crash_and_wildcards_match_literally(published, q):
    page = _page(q)
    body = _api(q)
    if q.strip() and q not in ("   ",):
        # "%" and "_" are characters to find, not wildcards: nothing is named with them.
        assert body["count"] == 0 and not any(o.object.name in page for o in published.published)


@pytest.mark.parametrize("q", ["\x00", "第3超市\x00"])
def test_a_search_holding_nul_is_refused_with_a_message_not_a_server_error(published, q):
    """NUL cannot be stored or searched in PostgreSQL text: the platform
    refuses it before any view runs (core/http.py), 400 with the reason."""
    page = Client().get("/inspections/results/", {"q": q})
    assert page.status_code == 400
    api = Client().get("/api/v1/inspections/results", {"q": q})
    assert api.status_code == 400 and api.json()["message"]
