"""Deadlines from the dated rules on the official calendar, marked
provisional in the UI and the API where a year has no official schedule."""

from pathlib import Path

from django.test import Client

from sanxiang.core.calendar import load_schedule

FIXTURE_2027 = Path(__file__).parent / "data" / "schedule-2027-fixture.yaml"
RULE = "publicity.other_decision_publication_limit"  # 20 working days (国办发〔2018〕118号)


def test_a_penalty_decided_on_2026_09_30_is_due_for_publication_by_2026_10_15(db):
    r = Client().get("/api/v1/deadlines", {"rule": "publicity.penalty_publication_limit", "start": "2026-09-30"})
    body = r.json()
    assert (body["deadline"], body["provisional"], body["unit"], body["amount"]) == ("2026-10-15", False, "working_days", 7)
    assert "118号" in body["reference"]


def test_deadline_into_an_unscheduled_year_is_provisional_in_api_and_ui_until_the_schedule_is_loaded(db):
    c = Client()
    api = c.get("/api/v1/deadlines", {"rule": RULE, "start": "2026-12-20"}).json()
    assert api["provisional"] is True
    page = c.get("/deadlines/", {"rule": RULE, "start": "2026-12-20"}).content.decode()
    assert "暂定" in page

    load_schedule(path=FIXTURE_2027, actor="test")
    api = c.get("/api/v1/deadlines", {"rule": RULE, "start": "2026-12-20"}).json()
    assert api["provisional"] is False
    page = c.get("/deadlines/", {"rule": RULE, "start": "2026-12-20"}).content.decode()
    assert "暂定" not in page and api["deadline"] in page


def test_unknown_rule_or_a_threshold_is_a_clear_error(db):
    c = Client()
    r = c.get("/api/v1/deadlines", {"rule": "no.such_rule", "start": "2026-01-05"})
    assert r.status_code == 422 and r.json()["field"] == "rule"
    r = c.get("/api/v1/deadlines", {"rule": "penalty.summary_fine_limit_citizen", "start": "2026-01-05"})
    assert r.status_code == 422 and r.json()["code"] == "rule_not_a_period"
    r = c.get("/api/v1/deadlines", {"rule": RULE, "start": "2026-02-30"})
    assert r.status_code == 422 and r.json()["field"] == "start"


# --- whether a period ending on a holiday rolls: a property of the dated rule


def test_a_seizure_from_2026_09_01_ends_on_the_holiday_2026_10_01_it_does_not_roll(db):
    from datetime import date

    from sanxiang.core.deadlines import deadline_for

    result = deadline_for(rule="coercion.seizure_limit", start=date(2026, 9, 1))
    assert result.rule.rolls_to_working_day is False and "第二十五条" in result.rule.rolls_reference
    assert (result.date, result.provisional) == (date(2026, 10, 1), False)  # 30 days, not 37


def test_the_90_day_decision_limit_ending_on_national_day_does_not_roll(db):
    from datetime import date

    from sanxiang.core.deadlines import deadline_for

    result = deadline_for(rule="penalty.decision_limit", start=date(2026, 7, 3))
    assert result.rule.rolls_to_working_day is False and "第六十条" in result.rule.rolls_reference
    assert result.date == date(2026, 10, 1)


def test_a_partys_payment_period_ending_on_national_day_rolls_to_the_next_working_day(db):
    from datetime import date

    from sanxiang.core.deadlines import deadline_for

    result = deadline_for(rule="penalty.payment_limit", start=date(2026, 9, 16))  # + 15 days = 1 October
    assert result.rule.rolls_to_working_day is True and "第八十五条" in result.rule.rolls_reference
    assert result.date == date(2026, 10, 8)


def test_the_deadline_api_says_whether_the_rule_rolls_and_why(db):
    body = Client().get("/api/v1/deadlines", {"rule": "coercion.seizure_limit", "start": "2026-09-01"}).json()
    assert (body["deadline"], body["rolls_to_working_day"]) == ("2026-10-01", False)
    assert "第二十五条" in body["rolls_reference"]
    body = Client().get("/api/v1/deadlines", {"rule": "penalty.payment_limit", "start": "2026-09-16"}).json()
    assert (body["deadline"], body["rolls_to_working_day"]) == ("2026-10-08", True)
