"""Every "today" is the Asia/Shanghai date from one function (issue 9, §8).

A server keeps UTC: between 16:00 and 24:00 UTC its date is a day behind
Shanghai's. These tests put the clock at 23:30 UTC (07:30 the next morning in
Shanghai) with time-machine, which also sets the process's local zone to UTC,
so they reproduce the class whatever the hour the suite runs at.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone as dt_timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sanxiang.core import clock
from sanxiang.core.validators import id_number_check_char

UTC = ZoneInfo("UTC")
LATE_EVENING_UTC = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 2026-12-02 07:30 in Shanghai
SHANGHAI_DAY = date(2026, 12, 2)

ROOTS = [Path(__file__).resolve().parents[3] / "sanxiang", Path(__file__).resolve().parents[3] / "bench"]

# Ways of getting a date or wall-clock time that are not Shanghai's: the
# process's local date, the UTC date of an aware datetime, or Django's
# current-zone helpers (right only while TIME_ZONE says Shanghai).
FORBIDDEN = re.compile(
    r"(?<![\w.])date\.today\("
    r"|\bdatetime\.now\(\)"
    r"|\butcnow\("
    r"|\btimezone\.localdate\("
    r"|\btimezone\.localtime\("
    r"|\bnow\(\)\.date\(\)"
    r"|\b\w+_(?:at|on|time)\.date\(\)"
)


def test_no_module_but_clock_computes_today_or_a_local_date():
    offenders = []
    for root in ROOTS:
        for path in root.rglob("*.py"):
            if path.name == "clock.py" and path.parent.name == "core" or "migrations" in path.parts:
                continue
            if path == Path(__file__).resolve():
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if FORBIDDEN.search(line.split("#", 1)[0]):
                    offenders.append(f"{path.relative_to(root.parent)}:{n}: {line.strip()}")
    assert not offenders, "use sanxiang.core.clock (today/local_date/local_time):\n" + "\n".join(offenders)


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_at_23_30_utc_today_is_already_the_next_day_in_shanghai():
    assert date.today() == date(2026, 12, 1)  # the process's (UTC) date: the trap
    assert clock.today() == SHANGHAI_DAY
    assert clock.local_date(clock.now()) == SHANGHAI_DAY
    assert clock.local_time(clock.now()).hour == 7
    with pytest.raises(ValueError):
        clock.local_date(datetime(2026, 12, 1, 23, 30))  # naive: zone unknown


@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_an_id_number_of_someone_born_today_in_shanghai_is_redacted_at_23_30_utc():
    """The redactor recognises an ID number only if its birth date is not in
    the future; measured against the UTC date, a Shanghai newborn's number
    was "from the future", not an ID, and reached the public text."""
    from sanxiang.publicity.redaction import redact_text

    first17 = "130102" + SHANGHAI_DAY.strftime("%Y%m%d") + "001"
    number = first17 + id_number_check_char(first17)
    result = redact_text(f"当事人之子{number}随同到场。")
    assert number not in result.text


@pytest.mark.django_db
@time_machine.travel(LATE_EVENING_UTC, tick=False)
def test_a_record_published_at_23_30_utc_starts_its_publicity_on_the_shanghai_date(world):
    from sanxiang.core import services as core_services
    from sanxiang.core.models import Role
    from sanxiang.publicity import services
    from sanxiang.publicity.models import Decision

    admin = core_services.create_user(actor="t", username="pub_clock", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    record = {
        "external_id": "CLK-1", "kind": "penalty", "doc_number": "冀长市监罚〔2026〕9号",
        "party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person",
        "party_credit_code": "91350100M000100Y43", "legal_representative": "王大明",
        "decision_date": SHANGHAI_DAY.isoformat(), "violation_type": "销售过期食品",
        "facts": "当事人销售超过保质期的食品。", "basis": "《中华人民共和国食品安全法》第一百二十四条",
        "penalty_categories": ["罚款"], "fine_fen": 5000000, "confiscation_fen": None, "content": "罚款人民币50000元。",
    }
    result = services.receive_records(actor="t", agency=world.amr_changan, records=[record], source="api")[0]
    decision = Decision.objects.get(pk=result.decision_id)  # decided "today" in Shanghai: not refused as future
    services.publish_decision(actor=admin, decision=decision)
    decision.refresh_from_db()
    assert decision.published_at == LATE_EVENING_UTC.astimezone(dt_timezone.utc)
    assert clock.local_date(decision.published_at) == SHANGHAI_DAY
    assert decision.publicity_end == date(2029, 12, 2)  # three years from the Shanghai date
