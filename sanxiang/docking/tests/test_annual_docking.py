"""The annual statistics travel upward when published (issue 13 item 2,
issue 16; docs/docking.md "Annual statistics").

The sending side publishes a report through the real annual services with
an upstream set and reads the outbox; the receiving side gets signed
messages through the real HTTP endpoint (/api/v1/docking/messages) and is
read through its public annual pages, as a visitor of the province's portal
would."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from sanxiang.core import services as core_services
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import AuditEntry, Role
from sanxiang.docking import services, webhooks
from sanxiang.docking.models import InboxMessage, OutboxMessage
from sanxiang.statistics import annual, annual_services, annual_status
from sanxiang.statistics.models import AnnualReport, ReportStatus

pytestmark = pytest.mark.django_db

URL = "/api/v1/docking/messages"
SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "docking"
PLATFORM = "正定县行政执法公示平台"
SHOWN = f"来源：由下级平台“{PLATFORM}”报送"
YEAR = 2026
EXPLANATION = "本年度正定县市场监管执法总体平稳，处罚案件较上年减少。"


def schema() -> dict:
    return json.loads((SCHEMAS / "annual_report.v1.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def county(world):
    """正定县's platform on the province's trust list, speaking for 正定县."""
    key = Ed25519PrivateKey.generate()
    instance = services.register_instance(actor="test", code="zhengding", name=PLATFORM,
                                          public_key=webhooks.public_key_text(key), regions=["130123"])
    return instance, key


@pytest.fixture
def upstream(settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county.pem")
    return services.configure_upstream(actor="test", url="http://127.0.0.1:9/api/v1/docking/messages",
                                       instance_code="zhengding")


@pytest.fixture
def head(world):
    return core_services.create_user(actor="test-fixture", username="head_zhengding", password=world.password,
                                     role=Role.AGENCY_HEAD, agency=world.amr_zhengding)


def publish_here(head, agency, *, explanation=EXPLANATION) -> AnnualReport:
    report = annual_services.save_draft(actor=head, agency=agency, year=YEAR, explanation=explanation,
                                        manual={"levy.count": {"value": "3", "note": "据财务台账"}})
    return annual_services.publish(actor=head, report=report)


def report_form(agency, *, explanation=EXPLANATION, note="据财务台账", published_at="2026-11-20T10:00:00+08:00",
                unredacted=False) -> dict:
    """What a county publishing its report sends: the snapshot made by the
    real annual_status.snapshot over the real figures (its free text
    redacted there). ``unredacted``: a sender that did not redact (an older
    or a foreign platform) — the typed text as it is."""
    computed = annual.for_agencies([agency], year=YEAR, today=date(YEAR, 12, 1))[agency.pk]
    draft = AnnualReport(agency=agency, year=YEAR, explanation=explanation,
                         manual={"levy.count": {"value": "3", "note": note}})
    snapshot = annual_status.snapshot(computed, draft)
    if unredacted:
        snapshot["explanation"] = explanation
        snapshot["manual"] = [{**m, "note": note} if m["key"] == "levy.count" else m for m in snapshot["manual"]]
    return {"schema": "annual_report/1", "agency": agency.credit_code, "year": YEAR, "published_at": published_at,
            "explanation": snapshot["explanation"], "snapshot": snapshot}


def send(key, form: dict, *, version: int = 1, source: str = "zhengding") -> dict:
    key_name = f"{form.get('agency')}/{form.get('year')}"
    payload = {"type": "annual_report.published", "timestamp": "2026-11-20T10:00:00+08:00",
               "data": {"source": source, "object_type": "annual_report", "key": key_name, "version": version,
                        "object": form}}
    body = canonical_json(payload).encode()
    msg_id = webhooks.message_id(source, "annual_report", key_name, version, "annual_report.published")
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key]).as_dict()
    answer = Client().post(URL, data=body, content_type="application/json", headers=dict(headers))
    assert answer.status_code == 200, answer.content
    return answer.json()


def public_page(agency) -> str:
    response = Client().get(f"/statistics/annual/public/agencies/{agency.pk}/{YEAR}/")
    assert response.status_code == 200
    return response.content.decode()


# --- sending ------------------------------------------------------------------------------

def test_publishing_a_report_with_an_upstream_writes_one_outbox_message_in_the_documented_schema(
        world, head, upstream):
    report = annual_services.save_draft(actor=head, agency=world.amr_zhengding, year=YEAR, explanation=EXPLANATION)
    assert not OutboxMessage.objects.exists()  # a draft never travels
    report = annual_services.publish(actor=head, report=report)

    [message] = OutboxMessage.objects.all()
    key = f"{world.amr_zhengding.credit_code}/{YEAR}"
    assert (message.object_type, message.object_key, message.version, message.event_type) == (
        "annual_report", key, 1, "annual_report.published")
    form = json.loads(message.body)["data"]["object"]
    jsonschema.validate(form, schema())
    assert form["snapshot"] == report.snapshot and form["explanation"] == EXPLANATION
    assert form["year"] == YEAR and form["published_at"] == report.published_at.isoformat()


def test_without_an_upstream_a_publication_writes_no_message(world, head, settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county.pem")
    publish_here(head, world.amr_zhengding)
    assert not OutboxMessage.objects.exists()


def test_the_form_made_for_these_tests_is_the_one_a_publication_sends(world, head, upstream):
    report = publish_here(head, world.amr_zhengding)
    sent = json.loads(OutboxMessage.objects.get().body)["data"]["object"]
    made = report_form(world.amr_zhengding, published_at=report.published_at.isoformat())
    made["snapshot"]["computed_on"] = sent["snapshot"]["computed_on"]
    assert made == sent


# --- receiving ----------------------------------------------------------------------------

def test_the_province_stores_a_received_report_as_published_and_its_public_pages_name_the_source(world, county):
    _, key = county
    answer = send(key, report_form(world.amr_zhengding))
    assert answer["outcome"] == "applied", answer
    report = AnnualReport.objects.get(pk=answer["local_id"])
    assert (report.agency, report.year, report.status, report.received_from) == (
        world.amr_zhengding, YEAR, ReportStatus.PUBLISHED, PLATFORM)
    assert report.published_at.isoformat() == "2026-11-20T02:00:00+00:00"
    assert report.explanation == EXPLANATION and report.snapshot["explanation"] == EXPLANATION
    assert report.manual == {"levy.count": {"value": "3", "note": "据财务台账"}}
    assert report.template == "2026" and report.updated_by is None and report.published_by is None
    assert AuditEntry.objects.filter(action="statistics.annual_receive", actor="instance:zhengding",
                                     object_id=str(report.pk)).count() == 1

    page = public_page(world.amr_zhengding)
    assert SHOWN in page and EXPLANATION in page and "据财务台账" in page and "正定县市场监督管理局" in page
    assert SHOWN in Client().get("/statistics/annual/public/").content.decode()
    assert SHOWN in Client().get(f"/statistics/annual/public/regions/130100/{YEAR}/").content.decode()
    download = Client().get(f"/statistics/annual/public/agencies/{world.amr_zhengding.pk}/{YEAR}/report.json")
    assert download.status_code == 200 and json.loads(download.content)["explanation"] == EXPLANATION
    # The legal office's status list counts it as published, on time by the source's publication.
    status = annual_status.status_of(world.amr_zhengding, report, year=YEAR, today=date(2027, 2, 1))
    assert status.code == annual_status.PUBLISHED and not status.published_late


def test_a_locally_published_report_names_no_source(world, head):
    publish_here(head, world.amr_zhengding)
    page = public_page(world.amr_zhengding)
    assert EXPLANATION in page and "由下级平台" not in page


def test_a_newer_version_replaces_the_received_report_and_a_stale_one_is_ignored(world, county):
    _, key = county
    first = send(key, report_form(world.amr_zhengding), version=1)
    third = send(key, report_form(world.amr_zhengding, explanation="第三版说明。"), version=3)
    assert first["outcome"] == third["outcome"] == "applied" and first["local_id"] == third["local_id"]
    second = send(key, report_form(world.amr_zhengding, explanation="第二版说明。"), version=2)
    assert second["outcome"] == "stale" and second["held_version"] == 3
    [report] = AnnualReport.objects.all()
    assert report.explanation == report.snapshot["explanation"] == "第三版说明。"
    page = public_page(world.amr_zhengding)
    assert "第三版说明。" in page and "第二版说明。" not in page and EXPLANATION not in page


def test_a_report_of_an_agency_outside_the_platforms_regions_is_refused(world, county):
    _, key = county
    answer = send(key, report_form(world.amr_lunan))
    assert answer["outcome"] == "refused" and answer["code"] == "out_of_scope"
    assert world.amr_lunan.credit_code in answer["message"]
    assert not AnnualReport.objects.exists()


def test_a_report_the_province_published_itself_is_not_overwritten(world, county, head):
    _, key = county
    local = publish_here(head, world.amr_zhengding, explanation="本平台发布的说明。")
    answer = send(key, report_form(world.amr_zhengding))
    assert answer["outcome"] == "refused" and answer["code"] == "published_here"
    assert answer["message"].startswith("year："), answer["message"]
    [report] = AnnualReport.objects.all()
    assert report.pk == local.pk and report.explanation == "本平台发布的说明。" and report.received_from == ""
    assert report.snapshot == local.snapshot and report.published_by == head


def test_a_draft_written_here_is_replaced_by_the_report_published_at_the_agencys_platform(world, county, head):
    _, key = county
    draft = annual_services.save_draft(actor=head, agency=world.amr_zhengding, year=YEAR, explanation="草稿")
    answer = send(key, report_form(world.amr_zhengding))
    assert answer["outcome"] == "applied" and answer["local_id"] == str(draft.pk)
    draft.refresh_from_db()
    assert draft.status == ReportStatus.PUBLISHED and draft.explanation == EXPLANATION and draft.received_from == PLATFORM
    entry = AuditEntry.objects.get(action="statistics.annual_receive")
    assert json.loads(entry.payload)["replaced"] == "draft"


def test_a_report_held_from_one_platform_is_not_replaced_by_another_platforms(world, county):
    _, key = county
    city_key = Ed25519PrivateKey.generate()
    services.register_instance(actor="test", code="shijiazhuang", name="石家庄市行政执法公示平台",
                               public_key=webhooks.public_key_text(city_key), regions=["130100"])
    assert send(key, report_form(world.amr_zhengding))["outcome"] == "applied"
    answer = send(city_key, report_form(world.amr_zhengding, explanation="市平台的说明。"), source="shijiazhuang")
    assert answer["outcome"] == "refused" and answer["code"] == "other_source"
    assert answer["message"].startswith("year：") and PLATFORM in answer["message"]
    assert AnnualReport.objects.get().explanation == EXPLANATION


def test_received_free_text_is_redacted_before_it_is_public(world, county):
    _, key = county
    answer = send(key, report_form(world.amr_zhengding, explanation="如有疑问请联系13912345678。",
                                   note="经办人手机13912345678", unredacted=True))
    assert answer["outcome"] == "applied", answer
    report = AnnualReport.objects.get()
    page = public_page(world.amr_zhengding)
    assert "13912345678" not in page and "13912345678" not in json.dumps(report.snapshot, ensure_ascii=False)
    assert "13912345678" not in report.explanation


def test_a_city_forwards_a_report_it_received_from_a_county(world, county, upstream):
    _, key = county
    assert send(key, report_form(world.amr_zhengding))["outcome"] == "applied"
    [message] = OutboxMessage.objects.all()
    assert (message.object_type, message.object_key) == ("annual_report", f"{world.amr_zhengding.credit_code}/{YEAR}")
    form = json.loads(message.body)["data"]["object"]
    jsonschema.validate(form, schema())
    assert form["published_at"] == "2026-11-20T02:00:00+00:00"  # the source's, not the city's


def _changed(agency, path: tuple, value=None, *, delete: bool = False) -> dict:
    form = report_form(agency)
    target = form
    for step in path[:-1]:
        target = target[step]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return form


@pytest.mark.parametrize("path, value, field", [
    (("secret",), "内部", "secret"),
    (("schema",), "annual_report/9", "schema"),
    (("year",), "2026", "year"),
    (("year",), 1999, "year"),
    (("year",), 2999, "year"),
    (("year",), True, "year"),
    (("published_at",), "2027-01-20 10:00", "published_at"),
    (("published_at",), "2999-01-20T10:00:00+08:00", "published_at"),
    (("explanation",), "", "explanation"),
    (("explanation",), 7, "explanation"),
    (("explanation",), "长" * 20001, "explanation"),
    (("snapshot",), "快照", "snapshot"),
    (("snapshot", "secret"), "内部", "snapshot.secret"),
    (("snapshot", "explanation"), "另一份说明", "snapshot.explanation"),
    (("snapshot", "computed_on"), "2026-13-01", "snapshot.computed_on"),
    (("snapshot", "rows"), [], "snapshot.rows"),
    (("snapshot", "rows", 0, "key"), "penalty", "snapshot.rows[0].key"),
    (("snapshot", "rows", 0, "label"), "", "snapshot.rows[0].label"),
    (("snapshot", "rows", 0, "label"), "处罚\x07案件", "snapshot.rows[0].label"),
    (("snapshot", "rows", 0, "sources"), "台账", "snapshot.rows[0].sources"),
    (("snapshot", "figures", "year"), 2025, "snapshot.figures.year"),
    (("snapshot", "figures", "agency"), "91130100MA0000001X", "snapshot.figures.agency"),
    (("snapshot", "figures", "penalty", "cases"), -1, "snapshot.figures.penalty.cases"),
    (("snapshot", "figures", "penalty", "cases"), "很多", "snapshot.figures.penalty.cases"),
    (("snapshot", "figures", "penalty", "fine_yuan"), "1e5", "snapshot.figures.penalty.fine_yuan"),
    (("snapshot", "figures", "penalty", "nosuch"), 1, "snapshot.figures.penalty.nosuch"),
    (("snapshot", "figures", "secret"), {}, "snapshot.figures.secret"),
    (("snapshot", "manual", 0, "value"), "三", "snapshot.manual[0].value"),
    (("snapshot", "manual", 0, "note"), "长" * 501, "snapshot.manual[0].note"),
])
def test_a_malformed_report_is_refused_naming_the_field_and_nothing_is_written(world, county, path, value, field):
    _, key = county
    answer = send(key, _changed(world.amr_zhengding, path, value))
    assert answer["outcome"] == "refused" and answer["code"] in {"invalid", "required", "too_long"}, answer
    assert answer["message"].startswith(f"{field}："), answer["message"]
    assert not AnnualReport.objects.exists()
    assert InboxMessage.objects.get().outcome == "refused"


@pytest.mark.parametrize("missing, field", [
    (("snapshot", "rows"), "snapshot.rows"),
    (("snapshot", "rows", 0, "rule"), "snapshot.rows[0].rule"),
    (("snapshot", "manual", 0, "note"), "snapshot.manual[0].note"),
])
def test_a_report_missing_a_field_is_refused_naming_it(world, county, missing, field):
    _, key = county
    answer = send(key, _changed(world.amr_zhengding, missing, delete=True))
    assert answer["outcome"] == "refused" and answer["message"].startswith(f"{field}："), answer


def test_an_unregistered_agency_is_refused_never_a_server_error(world, county):
    _, key = county
    form = copy.deepcopy(report_form(world.amr_zhengding))
    form["agency"] = "91130123MA0000001X"
    assert send(key, form)["outcome"] == "refused"
