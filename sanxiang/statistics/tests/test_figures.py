"""Each figure of the cockpit counted on the hand-built data set of
conftest.py (period 2026-03-01 … 2026-03-31, today 2026-04-15), on SQLite
and PostgreSQL alike; the number of queries does not grow with the number
of agencies."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sanxiang.core import services as core_services
from sanxiang.core.models import AgencyKind
from sanxiang.core.validators import make_credit_code
from sanxiang.core.models import User
from sanxiang.statistics import figures, selectors
from sanxiang.statistics.registry import figure_sources

from .conftest import P_FROM, P_TO, TODAY

pytestmark = pytest.mark.django_db


def _tallies(ds):
    return figures.compute(agency_ids=[ds.A.pk, ds.B.pk, ds.C.pk], date_from=P_FROM, date_to=P_TO, today=TODAY)


def test_cases_are_counted_opened_closed_and_terminated_by_act_kind_within_the_period(dataset):
    a, b = _tallies(dataset)[dataset.A.pk], _tallies(dataset)[dataset.B.pk]
    assert (a["cases.opened"], a["cases.opened.penalty"], a["cases.opened.inspection"], a["cases.opened.license"]) == (3, 2, 1, 0)
    assert (a["cases.closed"], a["cases.closed.penalty"], a["cases.closed.license"]) == (2, 1, 1)
    assert a["cases.terminated"] == 0  # terminated on 1 April, after the period
    assert (b["cases.opened"], b["cases.terminated"], b["cases.closed"]) == (1, 1, 0)


def test_penalty_cases_decided_are_split_by_summary_and_general_procedure(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    assert (a["procedure.summary"], a["procedure.general"]) == (1, 1)


def test_hearings_requested_and_held_in_the_period(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    assert (a["hearings.requested"], a["hearings.held"]) == (1, 1)


def test_a_penalty_decision_counts_once_under_its_heaviest_category(dataset):
    t = _tallies(dataset)
    a, b = t[dataset.A.pk], t[dataset.B.pk]
    # withdrawn, outside the period and licence decisions are not counted
    assert a["penalty.decisions"] == 3
    assert (a["penalty.category.罚款"], a["penalty.category.没收违法所得、没收非法财物"], a["penalty.category.警告"]) == (1, 1, 1)
    assert (b["penalty.decisions"], b["penalty.category.吊销许可证件"], b["penalty.category.罚款"]) == (1, 1, 0)
    assert figures.heaviest_category(["罚款", "警告", "行政拘留", "责令关闭"]) == "行政拘留"


def test_fines_and_confiscations_are_summed_where_an_amount_is_determined(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    assert figures.yuan(a["penalty.fine_fen"]) == Decimal("1500.00")
    assert a["penalty.fines"] == 2
    assert figures.yuan(a["penalty.confiscation_fen"]) == Decimal("250.50")
    assert a["penalty.confiscations"] == 1


def test_publication_on_time_late_and_overdue_by_the_shanghai_day(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    # published 23:30 on the due day (15:30 UTC): on time; 01:00 the day after (17:00 UTC on the due day): late;
    # a penalty and a licence decision unpublished past their due day: overdue; one due after the period: not counted
    assert (a["publication.on_time"], a["publication.late"], a["publication.overdue"]) == (1, 1, 2)


def test_an_unpublished_decision_is_overdue_only_once_its_due_day_has_passed(dataset):
    a = figures.compute(agency_ids=[dataset.A.pk], date_from=P_FROM, date_to=P_TO, today=P_FROM)[dataset.A.pk]
    assert a["publication.overdue"] == 0


def test_legal_reviews_count_pass_rate_on_time_and_days_taken(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    # opinions on 6 March (5 days, returned, on time) and 18 March 00:30 Shanghai (8 days, passed, a day late);
    # 2 April is after the period; a round without an opinion is not counted
    assert (a["reviews.opinions"], a["reviews.passed"], a["reviews.on_time"], a["reviews.days_total"]) == (2, 1, 1, 13)
    assert figures.rate(a["reviews.passed"], a["reviews.opinions"]) == Decimal("50.0")
    assert figures.average(a["reviews.days_total"], a["reviews.opinions"]) == Decimal("6.5")


def test_av_coverage_counts_completed_steps_needing_av(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    # with AV; exempted; AV deleted; completed 31 March 23:30 Shanghai without AV — the step needing none,
    # the one completed in April and the one in progress are not counted
    assert (a["av.required"], a["av.with_av"], a["av.exempted"], a["av.missing"]) == (4, 1, 1, 2)
    assert figures.rate(a["av.with_av"], a["av.required"]) == Decimal("25.0")


def test_certificate_rate_counts_valid_certificates_on_the_periods_last_day(dataset):
    t = _tallies(dataset)
    a, b = t[dataset.A.pk], t[dataset.B.pk]
    # two valid, one expired, one suspended, one not yet valid; the revoked one is not on record
    assert (a["officers.total"], a["officers.certified"]) == (5, 2)
    assert (b["officers.total"], b["officers.certified"]) == (2, 2)
    later = figures.compute(agency_ids=[dataset.A.pk], date_from=P_FROM, date_to=date(2026, 4, 10), today=TODAY)
    assert later[dataset.A.pk]["officers.certified"] == 3  # the certificate valid from 1 April counts then


def test_random_inspection_coverage_counts_objects_drawn_in_the_period_and_inspected(dataset):
    a = _tallies(dataset)[dataset.A.pk]
    assert (a["inspections.drawn"], a["inspections.done"]) == (3, 2)  # the replaced draw and April's not counted


def test_complaints_come_from_the_source_supervision_registered(dataset):
    assert "complaints" in [s.code for s in figure_sources()]
    t = _tallies(dataset)
    assert (t[dataset.A.pk]["source.complaints"], t[dataset.B.pk]["source.complaints"]) == (2, 1)


def test_a_regions_figures_are_the_sum_of_its_agencies(dataset):
    t = _tallies(dataset)
    total = figures.add([t[dataset.A.pk], t[dataset.B.pk]])
    assert total["cases.opened"] == 4 and total["penalty.decisions"] == 4
    assert total["penalty.fine_fen"] == 150000 + 20000
    assert total["officers.total"] == 7


def test_the_number_of_queries_does_not_grow_with_the_number_of_agencies(dataset):
    w = dataset.world
    few = [dataset.A.pk, dataset.B.pk]
    with CaptureQueriesContext(connection) as small:
        figures.compute(agency_ids=few, date_from=P_FROM, date_to=P_TO, today=TODAY)
    supervisor = User.objects.select_related("region").get(pk=w.u_legal_sjz.pk)
    with CaptureQueriesContext(connection) as page_small:
        selectors.region_cockpit(user=supervisor, region=w.sjz, date_from=P_FROM, date_to=P_TO, today=TODAY)
    more = []
    for serial in range(30):
        agency = core_services.create_agency(
            actor="test", name=f"测试局{serial}", credit_code=make_credit_code(region_code="130102", serial=500 + serial),
            region=w.changan, kind=AgencyKind.TRANSPORT, legal_office=w.legal_sjz)
        dataset.builder.case(agency, opened=P_FROM)
        dataset.builder.decision(agency, categories=["罚款"], fine=100, due=P_TO)
        dataset.builder.officer(agency, 600 + serial, valid_from=P_FROM, valid_to=P_TO)
        more.append(agency.pk)
    with CaptureQueriesContext(connection) as large:
        result = figures.compute(agency_ids=few + more, date_from=P_FROM, date_to=P_TO, today=TODAY)
    assert len(large.captured_queries) == len(small.captured_queries) <= 9 + len(figure_sources())  # at most nine tables/groupings (figures.compute), one per source
    with CaptureQueriesContext(connection) as page_large:
        cockpit = selectors.region_cockpit(user=supervisor, region=w.sjz, date_from=P_FROM, date_to=P_TO, today=TODAY)
    assert len(page_large.captured_queries) == len(page_small.captured_queries)
    assert cockpit.total["cases.opened"] == 4 + 30
    assert sum(result[pk]["cases.opened"] for pk in more) == 30
