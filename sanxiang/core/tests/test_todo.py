"""The to-do list's registry and order (issue 11 item 5, core/todo.py): any
app registers a provider; the merged list puts overdue items first, then by
due date, undated last; "soon" means within 3 WORKING days on the official
calendar; the navigation shows the count; the API serves the same list."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.conftest import client_for
from sanxiang.core import todo
from sanxiang.core.todo import TodoItem

# 2026-09-03 is a Thursday: 3 working days later is Tuesday 2026-09-08
# (3 calendar days would be Sunday 2026-09-06).
TODAY = date(2026, 9, 3)


def _items(user, today):
    soon = todo.soon_until(today)
    return [
        TodoItem(kind="b_later", label="L", title="later", url="/later/", due=soon + timedelta(days=1)),
        TodoItem(kind="a_undated", label="U", title="undated", url="/undated/"),
        TodoItem(kind="c_soon", label="S", title="soon", url="/soon/", due=soon),
        TodoItem(kind="d_overdue", label="O", title="overdue", url="/overdue/", due=today - timedelta(days=1)),
        TodoItem(kind="e_old", label="O", title="older", url="/older/", due=today - timedelta(days=30)),
    ]


@pytest.fixture
def only_test_provider(monkeypatch):
    """The registry holding only a test provider (restored afterwards)."""
    monkeypatch.setattr(todo, "_PROVIDERS", {})
    todo.register_todo_provider(_items)
    return _items


def test_every_app_registers_its_provider_and_registering_twice_keeps_one():
    names = {f"{p.__module__}" for p in todo.providers()}
    assert {"sanxiang.cases.todo", "sanxiang.documents.todo", "sanxiang.evidence.todo", "sanxiang.publicity.todo",
            "sanxiang.review.todo"} <= names
    before = len(todo.providers())
    todo.register_todo_provider(todo.providers()[0])
    assert len(todo.providers()) == before


def test_the_list_is_overdue_first_then_by_due_date_undated_last(world, only_test_provider):
    items = todo.todo_for(user=world.u_changan, today=TODAY)
    assert [i.title for i in items] == ["older", "overdue", "soon", "later", "undated"]
    assert [i.urgency for i in items] == ["overdue", "overdue", "soon", "later", "undated"]
    assert [i.overdue for i in items] == [True, True, False, False, False]


def test_soon_means_within_three_working_days_not_calendar_days(world, only_test_provider):
    assert todo.soon_until(TODAY) == date(2026, 9, 8)
    by_title = {i.title: i.urgency for i in todo.todo_for(user=world.u_changan, today=TODAY)}
    assert by_title["soon"] == "soon" and by_title["later"] == "later"
    # Before the National Day holiday (2026-10-01 … 10-07 off, 2026-09-20 and 10-10 worked
    # in the official schedule): 3 working days after 2026-09-30 fall after the holiday.
    assert todo.soon_until(date(2026, 9, 30)) > date(2026, 10, 7)


def test_nobody_logged_in_has_nothing_to_do(only_test_provider):
    from django.contrib.auth.models import AnonymousUser

    assert todo.todo_for(user=AnonymousUser(), today=TODAY) == []


def test_the_navigation_shows_the_number_of_open_items_beside_the_workbench(world, only_test_provider, settings):
    settings.REQUIRE_TOTP = False
    page = client_for(world.u_changan).get("/workbench/cases/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="navcount"' in html
    count = html.split('class="navcount"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert count == str(len(todo.todo_for(user=world.u_changan)))


def test_no_count_is_shown_when_nothing_waits(world, monkeypatch, settings):
    settings.REQUIRE_TOTP = False
    monkeypatch.setattr(todo, "_PROVIDERS", {})
    page = client_for(world.u_changan).get("/workbench/")
    assert 'class="navcount"' not in page.content.decode()
    assert "没有待办事项" in page.content.decode()


def test_the_workbench_shows_the_to_do_list_before_the_counts(world, only_test_provider, settings):
    settings.REQUIRE_TOTP = False
    html = client_for(world.u_changan).get("/workbench/").content.decode()
    assert html.index('id="todo"') < html.index('class="cards"')
    assert html.index("/older/") < html.index("/soon/") < html.index("/undated/")
    assert 'class="urgency-overdue"' in html and 'class="urgency-soon"' in html


def test_the_api_serves_the_same_list_paginated_with_token_or_session(world, only_test_provider, settings):
    settings.REQUIRE_TOTP = False
    r = client_for(world.u_changan).get("/api/v1/workbench/todo")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 5
    first = body["items"][0]
    assert set(first) >= {"kind", "title", "due", "overdue", "url", "urgency"}
    page = client_for(world.u_changan).get("/api/v1/workbench/todo?limit=2&offset=1").json()
    assert [i["title"] for i in page["items"]] == [i["title"] for i in body["items"][1:3]]
    _, token = create_token(actor="t", agency=world.amr_changan, name="办案系统", scopes=["read"])
    r = Client().get("/api/v1/workbench/todo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and r.json()["count"] == 5
    assert Client().get("/api/v1/workbench/todo").status_code == 401
