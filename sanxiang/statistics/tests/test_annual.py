"""The annual enforcement statistics (issue 16 part 1) counted on a
hand-built year 2026, on SQLite and PostgreSQL alike: every figure of the
report against the values counted by hand below, 0 (duty, no activity) kept
apart from "—" (no such duty), the regional sum equal to the sum of its
agencies, the console command's JSON and its refusals.

Hand count, agency A (长安区市场监管局, penalty and licence items listed):
- penalty decisions of 2026, not withdrawn: d1 警告+罚款 (fine 500.00),
  d2 罚款+没收 (fine 1000.00, confiscation 250.50), d3 没收 (amount not
  determined), d4 警告+罚款+吊销许可证件 (fine 200.00) -> 4 decisions;
  heaviest: 罚款 1, 没收 2, 吊销许可证件 1; fines 1700.00; confiscations
  250.50. Left out: a withdrawn one, one of 31 Dec 2025, one of 1 Jan 2027.
- penalty cases decided in 2026: 1 summary, 2 general (one decided in 2025
  left out).
- licence cases: L1 (opened 2026, decided, published: a grant), L2 (opened
  2026, decided, no record: refused), L3 (opened 2026, terminated), L4
  (opened 2025, decided 2026, no record: refused) -> applied 3, accepted 2,
  refused 2. Licence records: L1's and a pushed one (granted 2), a withdrawn
  one (not), one of 2025 made 无效 by a version of 2026 (revoked 1), one made
  无效 in 2025 (not).
- legal review opinions in 2026: 2 (one of 2027 left out).
Agency B (正定县, penalty items only): one decision 罚款 30.00; licence "—".
Agency C (路南区, licence items only): licence 0 everywhere, penalty "—".
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, EnforcementItem, VersionStatus
from sanxiang.cases.models import CaseStatus, Procedure
from sanxiang.core.models import Agency
from sanxiang.core.vocabulary import PENALTY_SEVERITY
from sanxiang.publicity.models import Decision, DecisionStatus, DecisionVersion
from sanxiang.review.models import Outcome, Submission
from sanxiang.statistics import annual, annual_rules, figures

from .conftest import Builder

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2027, 1, 10)
WARN, FINE, CONF, REVOKE = "警告", "罚款", "没收违法所得、没收非法财物", "吊销许可证件"


def at(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=SH)


def catalogue(agency, *kinds, effective=date(2025, 1, 1), number=1):
    version = CatalogueVersion.objects.create(agency=agency, kind=CatalogueKind.ENFORCEMENT_ITEMS, number=number,
                                              status=VersionStatus.ACCEPTED, effective_date=effective)
    for i, kind in enumerate(kinds):
        EnforcementItem.objects.create(version=version, code=f"E-{i}", name=f"事项{i}", act_kind=kind, duty="职责",
                                       authority="权限", basis_law="某法", basis_article="第一条")


def licence_record(b, agency, *, day, status=DecisionStatus.PUBLISHED, case=None, licence_status="有效"):
    b.n += 1
    decision = Decision.objects.create(agency=agency, external_id=f"l{b.n}", kind="license", status=status,
                                       data={"licence_category": "普通", "licence_status": licence_status},
                                       doc_number=f"冀许〔2026〕{b.n}号", party_name="某公司", party_type="legal_person",
                                       decision_date=day, case=case)
    DecisionVersion.objects.create(decision=decision, number=1, data=decision.data, source="case" if case else "api",
                                   actor="t")
    return decision


def made_invalid(decision, when):
    decision.data = {**decision.data, "licence_status": "无效"}
    decision.save(update_fields=["data"])
    v = DecisionVersion.objects.create(decision=decision, number=2, data=decision.data, source="api", actor="t")
    DecisionVersion.objects.filter(pk=v.pk).update(created_at=when)


@pytest.fixture
def year(world):
    b = Builder(world)
    A, B, C = world.amr_changan, world.amr_zhengding, world.amr_lunan
    catalogue(A, "penalty", "license", "inspection")
    catalogue(B, "penalty")
    catalogue(C, "license")
    catalogue(C, "license", "penalty", effective=date(2027, 1, 1), number=2)  # in force only after the year: no duty in 2026
    b.decision(A, day=date(2026, 3, 1), categories=[WARN, FINE], fine=50000)
    b.decision(A, day=date(2026, 5, 1), categories=[FINE, CONF], fine=100000, confiscation=25050)
    b.decision(A, day=date(2026, 7, 1), categories=[CONF], confiscation=None)
    b.decision(A, day=date(2026, 12, 31), categories=[WARN, FINE, REVOKE], fine=20000)
    b.decision(A, day=date(2026, 6, 1), categories=[FINE], fine=999999, status=DecisionStatus.WITHDRAWN)
    b.decision(A, day=date(2025, 12, 31), categories=[FINE], fine=1000)
    b.decision(A, day=date(2027, 1, 1), categories=[FINE], fine=1000)
    b.decision(B, day=date(2026, 8, 8), categories=[FINE], fine=3000)
    b.case(A, opened=date(2026, 5, 1), decided_on=date(2026, 5, 1), procedure=Procedure.SUMMARY)
    c1 = b.case(A, opened=date(2026, 2, 1), decided_on=date(2026, 4, 1))
    b.case(A, opened=date(2026, 6, 1), decided_on=date(2026, 12, 30), closed_on=date(2027, 1, 5), status=CaseStatus.CLOSED)
    b.case(A, opened=date(2025, 11, 1), decided_on=date(2025, 12, 30))
    l1 = b.case(A, act_kind="license", opened=date(2026, 2, 1), decided_on=date(2026, 2, 20))
    b.case(A, act_kind="license", opened=date(2026, 3, 1), decided_on=date(2026, 3, 20))
    b.case(A, act_kind="license", opened=date(2026, 4, 1), closed_on=date(2026, 4, 10), status=CaseStatus.TERMINATED)
    b.case(A, act_kind="license", opened=date(2025, 12, 20), decided_on=date(2026, 1, 5))
    licence_record(b, A, day=date(2026, 2, 20), case=l1)
    licence_record(b, A, day=date(2026, 6, 1))
    licence_record(b, A, day=date(2026, 6, 2), status=DecisionStatus.WITHDRAWN)
    made_invalid(licence_record(b, A, day=date(2025, 5, 1)), at(2026, 9, 1))
    made_invalid(licence_record(b, A, day=date(2025, 5, 2)), at(2025, 9, 1))
    common = {"stage": "review", "submitted_by": world.u_admin, "submitted_at": at(2026, 3, 1)}
    Submission.objects.create(case=c1, round=1, received_on=date(2026, 3, 1), due_on=date(2026, 3, 8),
                              opinion_at=at(2026, 3, 6), outcome=Outcome.ISSUES, **common)
    Submission.objects.create(case=c1, round=2, received_on=date(2026, 3, 10), due_on=date(2026, 3, 17),
                              opinion_at=at(2026, 3, 16), outcome=Outcome.AGREE, **common)
    Submission.objects.create(case=c1, round=3, received_on=date(2026, 12, 28), due_on=date(2027, 1, 8),
                              opinion_at=at(2027, 1, 4), outcome=Outcome.AGREE, **common)
    return world


def _cmd(*args) -> dict:
    out = io.StringIO()
    call_command("report", "annual", *args, stdout=out)
    return json.loads(out.getvalue())


def _categories(**counts):
    full = {c: 0 for c in PENALTY_SEVERITY}
    full.update(counts)
    return full


def test_a_decision_counts_once_under_its_heaviest_category_with_its_amounts(year):
    a = annual.for_agencies([year.amr_changan], year=2026, today=TODAY)[year.amr_changan.pk]
    assert a.values["penalty.cases"] == 4
    assert a.values["penalty.by_category"] == _categories(**{FINE: 1, CONF: 2, REVOKE: 1})
    assert sum(a.values["penalty.by_category"].values()) == a.values["penalty.cases"]
    assert a.values["penalty.fine_yuan"] == Decimal("1700.00")
    assert a.values["penalty.confiscation_yuan"] == Decimal("250.50")
    assert (a.values["penalty.summary_procedure"], a.values["penalty.ordinary_procedure"]) == (1, 2)


def test_penalty_cases_opened_and_closed_in_the_year_are_the_platforms_own_cases(year):
    """Hand count, agency A: penalty cases opened 2026-05-01, 2026-02-01,
    2026-06-01 (closed 2027-01-05: not in 2026), one of 2025 left out -> 3
    opened; add one opened in 2025 and closed in 2026 and one terminated in
    2026 -> 1 closed."""
    b = Builder(year)
    b.n = 2000
    b.case(year.amr_changan, opened=date(2025, 10, 1), closed_on=date(2026, 3, 3), status=CaseStatus.CLOSED)
    b.case(year.amr_changan, opened=date(2025, 10, 2), closed_on=date(2026, 3, 4), status=CaseStatus.TERMINATED)
    a = annual.for_agencies([year.amr_changan], year=2026, today=TODAY)[year.amr_changan.pk]
    assert (a.values["penalty.opened"], a.values["penalty.closed"]) == (3, 1)
    b_ = annual.for_agencies([year.amr_zhengding], year=2026, today=TODAY)[year.amr_zhengding.pk]
    assert (b_.values["penalty.opened"], b_.values["penalty.closed"]) == (0, 0)  # the duty is held: 0, not "—"


def test_licences_are_counted_applied_accepted_granted_refused_revoked(year):
    a = annual.for_agencies([year.amr_changan], year=2026, today=TODAY)[year.amr_changan.pk]
    counts = {k: v for k, v in a.section("license").items() if k != "by_origin"}
    assert counts == {"applied": 3, "accepted": 2, "granted": 2, "refused": 2, "revoked": 1}
    assert a.values["reviews.count"] == 2


def test_zero_for_a_duty_without_activity_and_none_for_no_such_duty(year):
    res = annual.for_agencies([year.amr_zhengding, year.amr_lunan], year=2026, today=TODAY)
    b, c = res[year.amr_zhengding.pk], res[year.amr_lunan.pk]
    assert b.section("license") == dict.fromkeys(["applied", "accepted", "granted", "by_origin", "refused", "revoked"])
    assert b.values["penalty.cases"] == 1 and b.values["penalty.fine_yuan"] == Decimal("30.00")
    assert b.values["penalty.summary_procedure"] == 0  # the duty is held: 0, not "—"
    assert {k: v for k, v in c.section("license").items() if k != "by_origin"} == dict.fromkeys(
        ["applied", "accepted", "granted", "refused", "revoked"], 0)
    assert set(c.section("license")["by_origin"].values()) == {0}
    assert set(c.section("penalty").values()) == {None}  # its penalty items take effect only in 2027
    assert c.values["reviews.count"] == 0  # no duty attached: always a number


def test_coercion_inspection_and_officers_follow_the_same_zero_and_no_duty_rule(year):
    res = annual.for_agencies([year.amr_changan, year.amr_zhengding], year=2026, today=TODAY)
    a, b = res[year.amr_changan.pk], res[year.amr_zhengding.pk]
    assert a.section("inspection") == {"cases": 0, "random_drawn": 0, "random_done": 0}  # listed, nothing done
    assert b.section("inspection") == {"cases": None, "random_drawn": None, "random_done": None}
    assert a.section("coercion") == {"cases": None}
    assert a.section("officers") == {"total": 2, "certified": 2}  # the world's two valid certificates


def test_each_decision_count_is_split_by_where_the_decisions_came_from_and_the_parts_sum_to_it(year):
    """Hand count, agency A: the four penalty decisions of the fixture were
    pushed (api); add one of a case on this platform, one imported, one
    from a lower platform and one entered here — 8, split 1/1/4/1/1. The
    licences granted: L1 from its case, the other pushed."""
    b = Builder(year)
    b.n = 1000  # past the fixture's numbering (external ids are unique per agency)
    case = b.case(year.amr_changan, opened=date(2026, 8, 1), decided_on=date(2026, 8, 20))
    b.decision(year.amr_changan, day=date(2026, 8, 20), categories=[WARN], source="case", case=case)
    b.decision(year.amr_changan, day=date(2026, 9, 1), categories=[WARN], source="import")
    b.decision(year.amr_changan, day=date(2026, 9, 2), categories=[WARN], source="docking")
    b.decision(year.amr_changan, day=date(2026, 9, 3), categories=[WARN], source="web")
    b.decision(year.amr_changan, day=date(2026, 9, 4), categories=[WARN], source="docking",
               status=DecisionStatus.WITHDRAWN)  # withdrawn: in no count
    a = annual.for_agencies([year.amr_changan], year=2026, today=TODAY)[year.amr_changan.pk]
    assert a.values["penalty.cases"] == 8
    assert a.values["penalty.by_origin"] == {"本平台办案": 1, "本平台录入": 1, "办案系统推送": 4, "双公示文件导入": 1,
                                             "下级平台报送": 1}
    assert sum(a.values["penalty.by_origin"].values()) == a.values["penalty.cases"]
    assert a.values["license.by_origin"]["本平台办案"] == 1 and a.values["license.by_origin"]["办案系统推送"] == 1
    assert sum(a.values["license.by_origin"].values()) == a.values["license.granted"] == 2
    out = _cmd("--year", "2026", "--agency", year.amr_changan.credit_code, "--format", "json")
    assert out["penalty"]["by_origin"]["下级平台报送"] == 1


def test_records_of_a_kind_prove_the_power_even_when_the_list_lacks_it(year):
    Builder(year).decision(year.amr_lunan, day=date(2026, 2, 2), categories=[WARN])
    c = annual.for_agencies([year.amr_lunan], year=2026, today=TODAY)[year.amr_lunan.pk]
    assert c.values["penalty.cases"] == 1 and c.values["penalty.fine_yuan"] == Decimal("0.00")


def test_the_command_prints_one_json_object_with_amounts_as_decimal_strings(year):
    out = _cmd("--year", "2026", "--agency", year.amr_changan.credit_code, "--format", "json")
    assert out["year"] == 2026 and out["agency"] == year.amr_changan.credit_code
    assert out["penalty"]["cases"] == 4 and out["penalty"]["fine_yuan"] == "1700.00"
    assert out["penalty"]["confiscation_yuan"] == "250.50"
    assert out["penalty"]["by_category"][CONF] == 2
    assert (out["penalty"]["summary_procedure"], out["penalty"]["ordinary_procedure"]) == (1, 2)
    assert {k: out["license"][k] for k in ("applied", "granted", "refused", "revoked")} == {
        "applied": 3, "granted": 2, "refused": 2, "revoked": 1}
    assert out["reviews"] == {"count": 2}
    b = _cmd("--year", "2026", "--agency", year.amr_zhengding.credit_code)
    assert b["license"]["granted"] is None


def test_the_regional_sum_equals_the_sum_of_its_agencies(year):
    region = _cmd("--year", "2026", "--region", year.sjz.code)
    members = [_cmd("--year", "2026", "--agency", a.credit_code)
               for a in Agency.objects.filter(region__path__startswith=year.sjz.path)]
    assert region["agencies"] == len(members) >= 2
    assert region["penalty"]["cases"] == sum(m["penalty"]["cases"] or 0 for m in members) == 5
    assert Decimal(region["penalty"]["fine_yuan"]) == sum(Decimal(m["penalty"]["fine_yuan"] or 0) for m in members)
    for cat in PENALTY_SEVERITY:
        assert region["penalty"]["by_category"][cat] == sum((m["penalty"]["by_category"] or {}).get(cat, 0) for m in members)
    for key in ("applied", "accepted", "granted", "refused", "revoked"):
        assert region["license"][key] == sum(m["license"][key] or 0 for m in members)
    assert region["reviews"]["count"] == sum(m["reviews"]["count"] for m in members) == 2
    province = _cmd("--year", "2026", "--region", year.hebei.code)
    assert province["license"]["applied"] == 3 and province["penalty"]["fine_yuan"] == "1730.00"


@pytest.mark.parametrize("args, field", [
    (["--year", "2026", "--agency", "NOSUCHAGENCY000000"], "agency"),
    (["--year", "2026", "--region", "999999"], "region"),
    (["--year", "2019", "--region", "130000"], "year"),
    (["--year", "20x6", "--region", "130000"], "year"),
    (["--year", "2999", "--region", "130000"], "year"),
])
def test_an_unknown_agency_region_or_year_is_refused_with_exit_code_2(year, args, field):
    with pytest.raises(CommandError) as exc:
        _cmd(*args)
    assert exc.value.returncode == 2 and str(exc.value).startswith(f"{field}:")


def test_the_template_is_chosen_by_year_and_a_malformed_one_is_refused(tmp_path):
    assert annual_rules.template_for(2026).version == annual_rules.template_for(2031).version == "2026"
    with pytest.raises(annual_rules.UnknownYear):
        annual_rules.template_for(2025)
    assert all(row.sources for row in annual_rules.template_for(2026).rows)
    bad = tmp_path / "bad.yaml"
    bad.write_text("template: x\napplies_from_year: 2030\ntitle: t\nsources: {a: A}\n"
                   "rows:\n  - {key: penalty.cases, label: l, duty: penalty, figure: f, rule: r, source: [zzz]}\n",
                   encoding="utf-8")
    with pytest.raises(annual_rules.TemplateError, match="row 1"):
        annual_rules._load(bad)


def test_figures_layer_is_the_only_counting_path(year):
    """The report's numbers are the figures layer's over the calendar year."""
    t = figures.compute(agency_ids=[year.amr_changan.pk], date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                        today=TODAY)[year.amr_changan.pk]
    a = annual.for_agencies([year.amr_changan], year=2026, today=TODAY)[year.amr_changan.pk]
    assert a.values["penalty.cases"] == t["penalty.decisions"] and a.values["license.granted"] == t["license.granted"]
