"""The official working-day calendar: real chinese_calendar data, the real
database, the real management command and the real `sanxiang` executable."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from sanxiang.core.calendar import (
    Deadline,
    add_calendar_days,
    add_period,
    add_working_days,
    day_status,
    load_schedule,
)
from sanxiang.core.models import AuditEntry, CalendarDay, CalendarYear

FIXTURE_2027 = Path(__file__).parent / "data" / "schedule-2027-fixture.yaml"
D = dt.date.fromisoformat


def run_calendar(*args: str) -> str:
    out = io.StringIO()
    call_command("calendar", *args, stdout=out)
    return out.getvalue()


def days_of(year: int) -> dict[dt.date, tuple[bool, str]]:
    return {d.date: (d.is_workday, d.name) for d in CalendarDay.objects.filter(year__year=year)}


# --------------------------------------------------------------------------
# Official data from the chinese_calendar package


@pytest.mark.django_db
def test_2026_national_day_is_seven_days_off_with_two_make_up_working_days():
    for day in range(1, 8):
        d = dt.date(2026, 10, day)
        assert day_status(d) == (False, True), d
        assert chinese_calendar.get_holiday_detail(d) == (True, "National Day")
    # 调休: Sunday 20 September and Saturday 10 October are working days.
    for d in (D("2026-09-20"), D("2026-10-10")):
        assert d.weekday() >= 5
        assert day_status(d) == (True, True), d
        assert chinese_calendar.get_holiday_detail(d) == (False, "National Day")
    assert day_status(D("2026-10-08")) == (True, True)
    assert day_status(D("2026-10-11")) == (False, True)  # an ordinary Sunday


@pytest.mark.django_db
def test_year_without_any_schedule_counts_weekdays_only_and_is_not_official():
    assert day_status(D("2030-01-01")) == (True, False)  # a Tuesday; New Year unknown
    assert day_status(D("2030-01-05")) == (False, False)  # a Saturday


@pytest.mark.django_db
def test_seven_working_days_after_2026_09_30_skip_national_day_and_count_the_make_up_saturday():
    deadline = add_working_days(start=D("2026-09-30"), days=7)
    assert deadline == Deadline(start=D("2026-09-30"), amount=7, unit="working_days", date=D("2026-10-15"),
                                provisional=False)
    assert str(deadline) == "2026-10-15"


@pytest.mark.django_db
def test_first_day_is_not_counted():
    # Thursday 8 October + 1 working day is Friday 9 October, not the 8th.
    assert add_working_days(start=D("2026-10-08"), days=1).date == D("2026-10-09")
    assert add_working_days(start=D("2026-10-08"), days=0).date == D("2026-10-08")


@pytest.mark.django_db
def test_command_add_working_days_prints_the_date_only():
    assert run_calendar("add-working-days", "2026-09-30", "7") == "2026-10-15\n"


def test_sanxiang_executable_prints_2026_10_15(tmp_path):
    exe = Path(sys.executable).with_name("sanxiang")
    command = [str(exe)] if exe.exists() else [shutil.which("sanxiang") or "sanxiang"]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["SANXIANG_DATA_DIR"] = str(tmp_path)
    migrate = subprocess.run([*command, "migrate", "-v", "0"], env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    result = subprocess.run([*command, "calendar", "add-working-days", "2026-09-30", "7"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2026-10-15\n"


# --------------------------------------------------------------------------
# Years the package does not know: provisional until a schedule is loaded


@pytest.mark.django_db
def test_twenty_working_days_from_2026_12_20_is_provisional_until_2027_is_loaded_then_exact():
    before = add_working_days(start=D("2026-12-20"), days=20)
    # Monday to Friday only: 1 January 2027 (a Friday) is wrongly counted.
    assert (before.date, before.provisional) == (D("2027-01-15"), True)
    assert str(before) == "2027-01-15 provisional"
    assert run_calendar("add-working-days", "2026-12-20", "20") == "2027-01-15 provisional\n"

    run_calendar("load", str(FIXTURE_2027))

    after = add_working_days(start=D("2026-12-20"), days=20)
    assert (after.date, after.provisional) == (D("2027-01-18"), False)
    assert run_calendar("add-working-days", "2026-12-20", "20") == "2027-01-18\n"


@pytest.mark.django_db
def test_a_deadline_inside_an_official_year_is_not_provisional_even_if_later_years_are_unknown():
    assert add_working_days(start=D("2026-12-01"), days=5).provisional is False


@pytest.mark.django_db
def test_loaded_make_up_day_counts_as_working_day_and_loaded_holidays_do_not():
    load_schedule(path=FIXTURE_2027, actor="tester")
    assert day_status(D("2027-02-20")) == (True, True)  # a Saturday made a working day
    assert day_status(D("2027-02-08")) == (False, True)  # a Monday in the Spring Festival
    assert day_status(D("2027-02-15")) == (True, True)  # an ordinary Monday
    assert add_working_days(start=D("2027-02-05"), days=1).date == D("2027-02-15")
    assert add_working_days(start=D("2027-02-19"), days=1).date == D("2027-02-20")


@pytest.mark.django_db
def test_a_loaded_year_wins_over_the_package(tmp_path):
    path = tmp_path / "2026.json"
    path.write_text(json.dumps({
        "year": 2026, "source": "测试用虚构安排",
        "holidays": [{"name": "测试假日", "dates": ["2026-10-09"]}],
    }, ensure_ascii=False), encoding="utf-8")
    assert day_status(D("2026-10-09")) == (True, True)
    load_schedule(path=path, actor="tester")
    assert day_status(D("2026-10-09")) == (False, True)
    # The loaded year is the whole schedule: days it does not list follow Monday–Friday.
    assert day_status(D("2026-10-01")) == (True, True)


# --------------------------------------------------------------------------
# Calendar days, months and years


@pytest.mark.django_db
def test_calendar_day_period_ending_on_a_holiday_moves_to_the_next_working_day():
    # 16 September + 15 days = 1 October (National Day) → Thursday 8 October.
    deadline = add_calendar_days(start=D("2026-09-16"), days=15)
    assert (deadline.date, deadline.provisional) == (D("2026-10-08"), False)
    assert run_calendar("add-calendar-days", "2026-09-16", "15") == "2026-10-08\n"


@pytest.mark.django_db
def test_calendar_day_period_ending_on_a_make_up_working_saturday_stays_there():
    assert add_calendar_days(start=D("2026-09-25"), days=15).date == D("2026-10-10")


@pytest.mark.django_db
def test_calendar_day_period_ending_in_an_unknown_year_is_provisional():
    deadline = add_calendar_days(start=D("2026-12-17"), days=15)  # 1 January 2027, a Friday
    assert (deadline.date, deadline.provisional) == (D("2027-01-01"), True)
    load_schedule(path=FIXTURE_2027, actor="tester")
    deadline = add_calendar_days(start=D("2026-12-17"), days=15)
    assert (deadline.date, deadline.provisional) == (D("2027-01-04"), False)


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "amount", "unit", "expected"), [
    ("2026-09-30", 7, "working_days", "2026-10-15"),
    ("2026-09-16", 15, "calendar_days", "2026-10-08"),
    ("2026-01-31", 1, "months", "2026-02-28"),
    ("2026-07-01", 3, "months", "2026-10-01"),  # a holiday, but months never shift
    ("2024-02-29", 1, "years", "2025-02-28"),
    ("2026-10-01", 3, "years", "2029-10-01"),
])
def test_add_period_dispatches_on_unit(start, amount, unit, expected):
    deadline = add_period(start=D(start), amount=amount, unit=unit)
    assert (deadline.unit, deadline.amount, deadline.date, deadline.provisional) == (unit, amount, D(expected), False)


def test_unknown_unit_is_rejected_by_name():
    with pytest.raises(ValueError, match="fortnights"):
        add_period(start=D("2026-01-01"), amount=1, unit="fortnights")


def test_negative_amount_and_datetime_start_are_rejected():
    with pytest.raises(ValueError, match="负数"):
        add_working_days(start=D("2026-01-01"), days=-1)
    with pytest.raises(TypeError):
        add_calendar_days(start=dt.datetime(2026, 1, 1, 9, 0), days=1)


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "message"), [
    (("add-working-days", "2026-02-30", "3"), "不存在"),
    (("add-working-days", "2026/09/30", "3"), "日期格式无效"),
    (("add-working-days", "2026-09-30", "-3"), "负数"),
    (("add-calendar-days", "2026-09-30", "seven"), "天数无效"),
    (("show", "27"), "年份无效"),
    (("load", "/nonexistent/schedule.yaml"), "文件不存在"),
])
def test_command_rejects_bad_input_with_a_clear_message(args, message):
    with pytest.raises(CommandError, match=message):
        run_calendar(*args)


# --------------------------------------------------------------------------
# Loading schedules


@pytest.mark.django_db
def test_loading_a_schedule_stores_its_days_and_appends_an_audit_entry():
    year = load_schedule(path=FIXTURE_2027, actor="admin")
    assert (year.year, year.source) == (2027, "测试用虚构安排（非官方，仅供自动化测试）")
    days = days_of(2027)
    assert days[D("2027-01-01")] == (False, "元旦")
    assert days[D("2027-01-03")] == (False, "元旦")  # from/to ranges include both ends
    assert days[D("2027-02-20")] == (True, "春节调休")
    assert len(days) == 11
    entry = AuditEntry.objects.get(action="calendar.load")
    assert (entry.actor, entry.object_type, entry.object_id) == ("admin", "core.calendaryear", str(year.pk))
    payload = json.loads(entry.payload)
    assert payload["year"] == 2027 and payload["workdays"] == ["2027-02-20"] and payload["replaced"] is False


@pytest.mark.django_db
def test_loading_a_year_again_replaces_all_its_days(tmp_path):
    load_schedule(path=FIXTURE_2027, actor="admin")
    corrected = tmp_path / "2027-corrected.yaml"
    corrected.write_text(
        "year: 2027\nsource: 测试用更正安排\nholidays:\n  - name: 元旦\n    dates: [2027-01-01]\n", encoding="utf-8")
    load_schedule(path=corrected, actor="admin")
    assert CalendarYear.objects.get(year=2027).source == "测试用更正安排"
    assert days_of(2027) == {D("2027-01-01"): (False, "元旦")}
    last = AuditEntry.objects.filter(action="calendar.load").order_by("-seq").first()
    assert json.loads(last.payload)["replaced"] is True


@pytest.mark.django_db
def test_show_lists_holidays_and_make_up_days_and_says_whether_official():
    assert "非官方" in run_calendar("show", "2027")
    run_calendar("load", str(FIXTURE_2027))
    text = run_calendar("show", "2027")
    assert "2027 年：官方安排" in text
    assert "元旦  2027-01-01 至 2027-01-03（3 天）" in text
    assert "春节调休  2027-02-20（星期六）" in text
    text_2026 = run_calendar("show", "2026")
    assert "国庆节  2026-10-01 至 2026-10-07（7 天）" in text_2026
    assert "国庆节  2026-10-10（星期六）" in text_2026


GOOD = FIXTURE_2027.read_text(encoding="utf-8")


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "field", "message"), [
    (GOOD.replace('"2027-02-07"', '"2026-12-31"'), "holidays[1].dates[1]", "不在 2027 年内"),
    (GOOD.replace('"2027-02-20"', '"2027-02-30"'), "workdays[0].dates[0]", "不存在"),
    (GOOD.replace('"2027-02-20"', '"2027/02/20"'), "workdays[0].dates[0]", "日期格式无效"),
    (GOOD.replace("to: 2027-01-03", "to: 2027-01-32"), "holidays[0].to", "不存在"),  # unquoted YAML date
    (GOOD.replace('dates: ["2027-02-20"]', 'dates: ["2027-02-06"]'), "workdays[0].dates[0]", "既是放假日又是调休上班日"),
    (GOOD.replace('"2027-02-20"', '"2027-02-22"'), "workdays[0].dates[0]", "本来就是工作日"),
    (GOOD.replace('source: "测试用虚构安排（非官方，仅供自动化测试）"', ""), "source", "缺少来源"),
    (GOOD.replace("year: 2027", "year: next"), "year", "年份"),
    (GOOD.replace("to: 2027-01-03", "to: 2026-12-30"), "holidays[0].to", "早于开始日"),
    (GOOD.replace("    from: 2027-01-01\n", ""), "holidays[0].from", "同时给出 from 和 to"),
    (GOOD + "remarks: x\n", "remarks", "未知字段"),
    ("year: [2027\n", "file", "YAML 格式错误"),
])
def test_bad_schedule_names_the_problem_and_leaves_the_loaded_year_untouched(tmp_path, text, field, message):
    load_schedule(path=FIXTURE_2027, actor="admin")
    before = (CalendarYear.objects.get(year=2027).source, days_of(2027), AuditEntry.objects.count())
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        load_schedule(path=bad, actor="admin")
    assert field in caught.value.message_dict, caught.value.message_dict
    assert any(message in m for m in caught.value.message_dict[field]), caught.value.message_dict

    with pytest.raises(CommandError) as caught_cli:
        run_calendar("load", str(bad))
    assert field in str(caught_cli.value) and message in str(caught_cli.value)

    after = (CalendarYear.objects.get(year=2027).source, days_of(2027), AuditEntry.objects.count())
    assert after == before


def test_the_load_command_says_how_many_provisional_deadlines_it_recomputed(db):
    out = run_calendar("load", str(FIXTURE_2027))
    assert "已按新安排重新计算暂定期限" in out
    assert AuditEntry.objects.filter(action="calendar.recompute").count() == 1
