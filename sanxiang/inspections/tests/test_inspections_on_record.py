"""Inspections on the record (issue 14 item 4) and their publication
(公示-15, item 5): each drawn object becomes a task of its inspectors, the
inspection is an inspection case of the cases app with the drawn officers,
a problem referred opens a linked penalty case, and the result is public —
redacted — on the portal and in the API by its due date (20 working days
in Hebei, random_inspection.result_publication_limit); one not public by
then is on the organiser's to-do list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.cases.models import Case
from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.todo import todo_for
from sanxiang.core.vocabulary import ActKind
from sanxiang.inspections import services
from sanxiang.inspections.models import Inspection, InspectionResult


def test_each_drawn_object_becomes_an_inspection_of_its_drawn_inspectors(drawn):
    inspections = list(Inspection.objects.filter(draw=drawn.draw))
    assert len(inspections) == len(drawn.draw.result)
    for inspection, row in zip(inspections, drawn.draw.result):
        assert str(inspection.object_id) == row["object"] and inspection.inspectors == row["inspectors"]
        assert sorted(o.certificate_number for o in inspection.officers.all()) == sorted(row["inspectors"])


def test_the_inspection_is_an_inspection_case_with_the_drawn_officers(drawn):
    inspection = Inspection.objects.filter(draw=drawn.draw).first()
    with pytest.raises(PermissionDenied):
        services.start_inspection(actor=drawn.u_pub_lunan, inspection=inspection)
    inspection = services.start_inspection(actor=drawn.u_changan, inspection=inspection)
    case = Case.objects.get(pk=inspection.case_id)
    assert case.act_kind == ActKind.INSPECTION and case.party_name == inspection.object.name
    assert sorted(a.officer.certificate_number for a in case.assignments.select_related("officer")) == sorted(inspection.inspectors)
    with pytest.raises(ValidationError):
        services.start_inspection(actor=drawn.u_changan, inspection=inspection)


def test_a_problem_referred_opens_a_linked_penalty_case_and_the_result_is_public_redacted(drawn):
    inspection = Inspection.objects.filter(draw=drawn.draw, object__natural_person=False).first()
    today = clock.today()
    done = services.record_result(actor=drawn.u_changan, inspection=inspection, result=InspectionResult.REFERRED,
                                  inspected_on=today, note="发现超过保质期的食品12袋，已移交立案。联系人李明电话13812345678。")
    penalty = Case.objects.get(pk=done.referred_case_id)
    assert penalty.act_kind == ActKind.PENALTY and penalty.party_name == inspection.object.name
    assert "13812345678" not in done.public_note and "超过保质期" in done.public_note
    due = deadline_for(rule="random_inspection.result_publication_limit", start=today, agency=drawn.amr_changan)
    assert done.publication_due == due.deadline.date and done.published_at is not None
    assert clock.local_date(done.published_at) <= done.publication_due  # public by its due date
    page = Client().get("/inspections/results/").content.decode()
    assert inspection.object.name in page and "13812345678" not in page and "已移交立案" in page
    api = Client().get("/api/v1/inspections/results").json()
    assert api["count"] == 1 and api["items"][0]["result"] == "referred"
    draw_page = Client().get(f"/inspections/draws/{drawn.draw.pk}/").content.decode()
    assert "发现问题，已立案查处" in draw_page or str(InspectionResult.REFERRED.label) in draw_page


def test_a_natural_persons_result_is_published_under_a_masked_name(drawn):
    inspection = Inspection.objects.get(draw=drawn.draw, object__natural_person=True)
    services.record_result(actor=drawn.u_changan, inspection=inspection, result=InspectionResult.NO_PROBLEM,
                           inspected_on=clock.today(), note="张三丰经营场所符合要求。")
    page = Client().get("/inspections/results/").content.decode()
    assert "张三丰" not in page and "张某" in page


@pytest.mark.parametrize("kwargs, field", [
    ({"result": "maybe"}, "result"), ({"inspected_on": None}, "inspected_on"),
    ({"inspected_on": "tomorrow"}, "inspected_on"), ({"result": "corrected", "note": ""}, "note"),
    ({"note": "\u0007"}, "note"),
])
def test_a_bad_result_is_refused_naming_the_field_and_nothing_is_published(drawn, kwargs, field):
    inspection = Inspection.objects.filter(draw=drawn.draw).first()
    args = {"result": "no_problem", "inspected_on": clock.today(), "note": ""}
    args.update(kwargs)
    if args["inspected_on"] == "tomorrow":
        args["inspected_on"] = clock.today() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.record_result(actor=drawn.u_changan, inspection=inspection, **args)
    assert field in exc.value.error_dict
    assert Inspection.objects.get(pk=inspection.pk).published_at is None


def test_tasks_reach_the_inspectors_to_do_and_an_unpublished_result_past_its_day_the_organisers(drawn):
    mine = todo_for(user=drawn.u_changan, today=clock.today())
    assert any(t.kind == "inspection_task" for t in mine)
    batch = drawn.draw.batch
    late = deadline_for(rule="random_inspection.result_publication_limit", start=batch.ends_on, agency=drawn.amr_changan)
    after = late.deadline.date + timedelta(days=1)
    overdue = [t for t in todo_for(user=drawn.u_pub_changan, today=after) if t.kind == "inspection_result_overdue"]
    assert len(overdue) == Inspection.objects.filter(draw=drawn.draw).count()
    assert not [t for t in todo_for(user=drawn.u_pub_changan, today=clock.today()) if t.kind == "inspection_result_overdue"]


def test_the_office_page_starts_an_inspection_and_records_its_result(drawn, settings):
    settings.REQUIRE_TOTP = False
    c = client_for(drawn.u_changan)
    page = c.get("/inspections/office/").content.decode()
    assert "待检查的对象" in page or "开始检查" in page
    inspection = Inspection.objects.filter(draw=drawn.draw, officers__user=drawn.u_changan).first()
    r = c.post(f"/inspections/office/inspections/{inspection.pk}/start/")
    inspection.refresh_from_db()
    assert r.status_code == 302 and r["Location"].endswith(f"/workbench/cases/{inspection.case_id}/")
    r = c.post(f"/inspections/office/inspections/{inspection.pk}/result/",
               {"result": "no_problem", "inspected_on": clock.today().isoformat(), "note": ""}, follow=True)
    assert r.status_code == 200
    inspection.refresh_from_db()
    assert inspection.result == "no_problem" and inspection.published_at is not None
    odd = c.post(f"/inspections/office/inspections/{inspection.pk}/result/", {"inspected_on": "2026-02-30"}, follow=True)
    assert odd.status_code == 200
