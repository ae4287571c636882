"""The draw through the platform (services, real database, SQLite and
PostgreSQL): plan filed by the legal office, snapshot with the eligible
objects and inspectors only, commitments then reveals, the same draw as
the standalone verifier gives, published record and page, re-draw."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client

from sanxiang.core.models import AuditEntry, OfficerStatus
from sanxiang.inspections import drawv1, selectors, services
from sanxiang.inspections.models import Draw, DrawStatus, InspectionObject
from sanxiang.inspections.tests.world import END, SECRETS, START, credit

def _run_draw(w, *, public_value_note=""):
    draw = services.create_draw(actor=w.u_pub_changan, batch=w.batch, public_value_note=public_value_note)
    services.commit(actor=w.u_pub_changan, draw=draw, agency=w.amr_changan, commitment=drawv1.commitment(SECRETS["agency"]))
    services.commit(actor=w.u_legal_sjz, draw=draw, agency=w.legal_sjz, commitment=drawv1.commitment(SECRETS["office"]))
    return draw


def test_the_snapshot_holds_only_eligible_inspectors_and_every_object_in_scope(iw):
    draw = services.create_draw(actor=iw.u_pub_changan, batch=iw.batch)
    inspectors = draw.snapshot["inspectors"]
    assert iw.penalty_only.certificate_number not in inspectors  # no 行政检查 on the certificate
    assert iw.expiring.certificate_number not in inspectors  # expires during the period
    assert {o.certificate_number for o in iw.extra_inspectors} <= set(inspectors)
    assert len(draw.snapshot["objects"]) == 12 and draw.snapshot == drawv1.snapshot_of(draw.snapshot["objects"], inspectors)
    assert draw.snapshot_sha256 == drawv1.snapshot_sha256(draw.snapshot)
    assert {p.agency_id for p in draw.participants.all()} == {iw.amr_changan.pk, iw.legal_sjz.pk}


def test_commitments_then_reveals_run_the_draw_that_the_standalone_verifier_confirms(iw):
    draw = _run_draw(iw)
    draw.refresh_from_db()
    assert draw.status == DrawStatus.AWAITING_REVEALS
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    draw.refresh_from_db()
    assert draw.status == DrawStatus.AWAITING_REVEALS and draw.result == []
    services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    draw.refresh_from_db()
    assert draw.status == DrawStatus.DRAWN
    record = json.loads(json.dumps(selectors.draw_record(draw)))
    assert drawv1.verify(record) == []
    # The same inputs, the same draw — on whichever database this test runs.
    order = sorted([iw.amr_changan.pk, iw.legal_sjz.pk])
    by_agency = {iw.amr_changan.pk: SECRETS["agency"], iw.legal_sjz.pk: SECRETS["office"]}
    again = drawv1.draw(snapshot=draw.snapshot, secrets=[by_agency[p] for p in order], public_value="",
                        ratios=draw.ratios, k=2, limit=None, conflicts=[])
    assert again.result == draw.result
    assert len(draw.result) == 1 + 2 + 2 + 4  # A ⌈.25·2⌉, B ⌈.34·3⌉ (1.02), C ⌈.5·3⌉, D all 4
    actions = list(AuditEntry.objects.filter(object_type="inspections.draw").values_list("action", flat=True))
    assert actions.count("inspections.reveal") == 2 and "inspections.drawn" in actions


def test_a_declared_conflict_keeps_the_inspector_off_that_object(iw):
    target = iw.objects[-1]  # tier D: always selected at ratio 1
    officer = iw.extra_inspectors[0]
    services.declare_conflict(actor=iw.u_pub_changan, officer=officer, obj=target, reason="其配偶系该对象的经营者")
    draw = _run_draw(iw)
    assert {"inspector": officer.certificate_number, "object": target.draw_id} in Draw.objects.get(pk=draw.pk).conflicts
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    draw = services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    [row] = [r for r in draw.result if r["object"] == target.draw_id]
    assert officer.certificate_number not in row["inspectors"] and len(row["inspectors"]) == 2


def test_a_secret_that_does_not_match_its_commitment_stops_the_draw(iw):
    draw = _run_draw(iw)
    with pytest.raises(ValidationError) as exc:
        services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret="ab" * 32)
    assert exc.value.error_dict["secret"][0].code == "does_not_match_commitment"
    assert Draw.objects.get(pk=draw.pk).status == DrawStatus.AWAITING_REVEALS


def test_reveals_wait_for_every_commitment_and_only_a_participant_may_give_them(iw):
    draw = services.create_draw(actor=iw.u_pub_changan, batch=iw.batch)
    services.commit(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, commitment=drawv1.commitment(SECRETS["agency"]))
    with pytest.raises(ValidationError) as exc:
        services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    assert exc.value.error_dict["secret"][0].code == "commitments_open"
    with pytest.raises(PermissionDenied):
        services.commit(actor=iw.u_pub_lunan, draw=draw, agency=iw.legal_sjz, commitment="00" * 32)
    with pytest.raises(ValidationError) as bad:
        services.commit(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, commitment="not hex")
    assert bad.value.error_dict["commitment"][0].code == "invalid"
    assert selectors.public_draw(pk=draw.pk) is None  # nothing public before every commitment


def test_an_announced_public_value_is_needed_before_the_draw_runs(iw):
    draw = _run_draw(iw, public_value_note="2026年12月9日中国福利彩票双色球开奖号码")
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    draw = services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    assert draw.status == DrawStatus.AWAITING_REVEALS
    draw = services.enter_public_value(actor=iw.u_pub_changan, draw=draw, value="03 08 15 22 27 31 + 09")
    assert draw.status == DrawStatus.DRAWN and drawv1.verify(selectors.draw_record(draw)) == []


def test_a_draw_needs_a_filed_plan_and_two_inspectors_per_object(iw):
    plan = services.create_plan(actor=iw.u_pub_changan, agency=iw.amr_changan, year=2026, title="补充计划")
    batch = services.add_batch(actor=iw.u_pub_changan, plan=plan, title="补充批次", item_code="SJ-CC-002",
                               scope_region=iw.changan, ratios={"A": "1"}, starts_on=START, ends_on=END)
    with pytest.raises(ValidationError) as exc:
        services.create_draw(actor=iw.u_pub_changan, batch=batch)
    assert exc.value.error_dict["batch"][0].code == "plan_not_filed"
    with pytest.raises(ValidationError) as exc:
        services.add_batch(actor=iw.u_pub_changan, plan=plan, title="一人检查", item_code="SJ-CC-001", scope_region=iw.changan,
                           ratios={"A": "1"}, starts_on=START, ends_on=END, inspectors_per_object=1)
    assert exc.value.error_dict["inspectors_per_object"][0].code == "too_few_inspectors"
    with pytest.raises(ValidationError) as exc:
        services.add_batch(actor=iw.u_pub_changan, plan=plan, title="清单外", item_code="SJ-CC-999", scope_region=iw.changan,
                           ratios={"A": "1"}, starts_on=START, ends_on=END)
    assert exc.value.error_dict["item_code"][0].code == "unknown_item"
    for ratios in ({"E": "0.1"}, {"A": "1.5"}, {"A": "五成"}, {}):
        with pytest.raises(ValidationError) as exc:
            services.add_batch(actor=iw.u_pub_changan, plan=plan, title="比例", item_code="SJ-CC-001", scope_region=iw.changan,
                               ratios=ratios, starts_on=START, ends_on=END)
        assert "ratios" in exc.value.error_dict


def test_a_suspended_certificate_leaves_the_officer_out_of_the_next_snapshot(iw):
    officer = iw.extra_inspectors[1]
    type(officer).objects.filter(pk=officer.pk).update(status=OfficerStatus.SUSPENDED)
    draw = services.create_draw(actor=iw.u_pub_changan, batch=iw.batch)
    assert officer.certificate_number not in draw.snapshot["inspectors"]


def test_a_redraw_names_its_reason_and_replaces_the_draw_publicly(iw):
    draw = _run_draw(iw)
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    with pytest.raises(ValidationError):
        services.redraw(actor=iw.u_pub_changan, draw=draw, reason="重抽")
    second = services.redraw(actor=iw.u_pub_changan, draw=draw, reason="名录库漏录三家新开业超市，补录后重新抽取")
    assert second.replaces_id == draw.pk and second.number == 2
    assert Draw.objects.get(pk=draw.pk).status == DrawStatus.REPLACED
    with pytest.raises(ValidationError):
        services.create_draw(actor=iw.u_pub_changan, batch=iw.batch)  # the batch has its draw


def test_the_directory_masks_a_natural_persons_id_number_and_refuses_bad_rows_naming_the_field(iw):
    person = InspectionObject.objects.get(name="张三丰")
    assert person.natural_person and person.id_masked == "130102********1237"
    assert "199001011237" not in json.dumps([person.id_masked, person.id_hash])
    for data, field in [({"name": "", "credit_code": credit(90), "region": "130102"}, "name"),
                        ({"name": "某店", "credit_code": "123", "region": "130102"}, "credit_code"),
                        ({"name": "某店", "id_number": "130102199001011238", "region": "130102"}, "id_number"),
                        ({"name": "某店", "credit_code": credit(91), "region": "999999"}, "region"),
                        ({"name": "某店", "credit_code": credit(92), "region": "130102", "risk_tier": "E"}, "risk_tier"),
                        ({"name": "某\u202e店", "credit_code": credit(1), "region": "130102"}, "credit_code")]:
        with pytest.raises(ValidationError) as exc:
            services.add_object(actor=iw.u_pub_changan, data=data)
        assert field in exc.value.error_dict, (data, exc.value.error_dict)


def test_the_public_record_page_and_verifier_download(iw, tmp_path):
    draw = _run_draw(iw)
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    client = Client()
    record = client.get(f"/api/v1/inspections/draws/{draw.pk}/record")
    assert record.status_code == 200 and drawv1.verify(record.json()) == []
    page = client.get(f"/inspections/draws/{draw.pk}/")
    text = page.content.decode()
    assert page.status_code == 200 and draw.snapshot_sha256 in text and "张三丰" not in text
    assert "张某某" in text or "张**" in text or "张某" in text
    assert "130102199001011237" not in text
    listing = client.get("/inspections/draws/")
    assert listing.status_code == 200 and "第四季度食品经营抽查" in listing.content.decode()
    verifier = client.get("/inspections/verify-draw.py")
    assert verifier.status_code == 200 and b"def verify(" in verifier.content
    (tmp_path / "r.json").write_text(record.content.decode(), encoding="utf-8")
    call_command("draw", "verify", str(tmp_path / "r.json"))
    assert client.get("/api/v1/inspections/draws/999999/record").status_code == 404
    assert client.get("/inspections/draws/999999/").status_code == 404


def test_a_natural_persons_key_is_not_a_plain_hash_of_the_id_number(iw, settings):
    """The directory keeps a masked number and a key to find the person
    again; the key is an HMAC under the installation's secret, so trying
    every possible ID number against a copy of the table finds nothing."""
    import hashlib

    from sanxiang.inspections.services import _id_hash

    person = InspectionObject.objects.get(name="张三丰")
    number = "130102199001011237"
    assert person.id_hash == _id_hash(number)
    assert person.id_hash not in {hashlib.sha256(v.encode()).hexdigest()
                                  for v in (number, f"sanxiang-inspection-object|{number}")}
    settings.SECRET_KEY = "another-installation-" + "x" * 40
    assert _id_hash(number) != person.id_hash


def test_a_redraw_is_on_the_audit_chain_with_its_reason_and_the_draw_it_replaces(iw):
    draw = _run_draw(iw)
    services.reveal(actor=iw.u_pub_changan, draw=draw, agency=iw.amr_changan, secret=SECRETS["agency"])
    services.reveal(actor=iw.u_legal_sjz, draw=draw, agency=iw.legal_sjz, secret=SECRETS["office"])
    reason = "名录库漏录三家新开业超市，补录后重新抽取"
    second = services.redraw(actor=iw.u_pub_changan, draw=draw, reason=f"  {reason} ")
    [entry] = AuditEntry.objects.filter(action="inspections.redraw")
    assert (entry.object_type, entry.object_id, entry.actor) == ("inspections.draw", str(draw.pk), iw.u_pub_changan.username)
    assert json.loads(entry.payload)["reason"] == reason
    [started] = AuditEntry.objects.filter(action="inspections.draw_created", object_id=str(second.pk))
    assert started.seq > entry.seq
    payload = json.loads(started.payload)
    assert payload["replaces"] == draw.pk and payload["reason"] == reason and payload["number"] == 2
    # A refused re-draw (no reason) leaves nothing on the chain.
    with pytest.raises(ValidationError):
        services.redraw(actor=iw.u_pub_changan, draw=second, reason="重抽")
    assert AuditEntry.objects.filter(action="inspections.redraw").count() == 1
