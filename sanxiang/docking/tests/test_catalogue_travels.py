"""Accepted catalogue versions travel upward, and what the platform above
received names the platform it came from (issue 13 items 2 and 4;
docs/docking.md "Catalogue versions", "Where a received record shows its
source").

The sending side runs the real filing workflow with an upstream set and
reads the outbox; the receiving side gets signed messages through the real
HTTP endpoint (/api/v1/docking/messages) and is read through its public
pages, as a visitor of the province's portal would."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind, CatalogueVersion, FilingEvent, VersionStatus
from sanxiang.catalog.tests.conftest import draft_with
from sanxiang.core.chainformat import canonical_json
from sanxiang.core.models import AuditEntry, Role
from sanxiang.core import changes, services as core_services
from sanxiang.docking import services, webhooks
from sanxiang.docking.models import InboxMessage, OutboxMessage
from sanxiang.publicity.models import PublicDecision

pytestmark = pytest.mark.django_db

URL = "/api/v1/docking/messages"
SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "docking"
PLATFORM = "正定县行政执法公示平台"
SHOWN = f"来源：由下级平台“{PLATFORM}”报送"


@pytest.fixture
def county(world):
    """正定县's platform on the province's trust list, speaking for 正定县."""
    key = Ed25519PrivateKey.generate()
    instance = services.register_instance(actor="test", code="zhengding", name=PLATFORM,
                                          public_key=webhooks.public_key_text(key), regions=["130123"])
    return instance, key


def send(key, *, object_type: str, event: str, key_name: str, version: int, data: dict, source="zhengding"):
    payload = {"type": event, "timestamp": "2026-12-01T08:00:00+08:00",
               "data": {"source": source, "object_type": object_type, "key": key_name, "version": version,
                        "object": data}}
    body = canonical_json(payload).encode()
    msg_id = webhooks.message_id(source, object_type, key_name, version, event)
    headers = webhooks.sign(msg_id=msg_id, body=body, keys=[key]).as_dict()
    answer = Client().post(URL, data=body, content_type="application/json", headers=dict(headers))
    assert answer.status_code == 200, answer.content
    return answer.json()


# --- catalogue versions -----------------------------------------------------------

ITEMS = {
    CatalogueKind.ENFORCEMENT_ITEMS: [
        {"code": "ZD-CF-001", "name": "对销售过期食品的行政处罚", "act_kind": "penalty", "duty": "查处食品经营违法行为",
         "authority": "警告、罚款", "basis_law": "《中华人民共和国食品安全法》", "basis_article": "第一百二十四条"},
        {"code": "ZD-XK-001", "name": "食品经营许可", "act_kind": "license", "duty": "食品经营许可审批",
         "authority": "准予或者不予许可", "basis_law": "《中华人民共和国食品安全法》", "basis_article": "第三十五条"},
    ],
    CatalogueKind.INSPECTION_ITEMS: [
        {"code": "ZD-SJ-001", "name": "食品经营者日常监督检查", "body": "正定县市场监督管理局",
         "basis": "《中华人民共和国食品安全法》第一百一十条", "target": "辖区内食品经营者", "content": "经营条件、进货查验",
         "ratio": "5.00", "method": "双随机现场检查", "frequency": "每年不少于1次"},
    ],
    CatalogueKind.SERVICE_GUIDES: [
        {"code": "ZD-XK-001", "name": "正定县食品经营许可", "basis": "《中华人民共和国食品安全法》第三十五条",
         "accepting_body": "正定县政务服务中心", "approving_body": "正定县市场监督管理局", "conditions": "有相适应的经营场所",
         "preferential_policies": "", "materials": "申请书；营业执照复印件", "procedure": "申请—受理—审查—决定",
         "time_limit": "10个工作日", "supervision": "12315", "accountability": "依法追究", "remedies": "行政复议或者行政诉讼",
         "office_hours": "工作日 9:00-17:00", "office_address": "正定县常山路1号", "office_phone": "0311-88888888"},
    ],
    CatalogueKind.FLOWCHARTS: [{"act_kind": "penalty", "procedure": "general", "note": "正定县一般程序"}],
}
PAGES = {CatalogueKind.ENFORCEMENT_ITEMS: ("items", "对销售过期食品的行政处罚"),
         CatalogueKind.INSPECTION_ITEMS: ("inspection", "食品经营者日常监督检查"),
         CatalogueKind.SERVICE_GUIDES: ("guides", "正定县食品经营许可"),
         CatalogueKind.FLOWCHARTS: ("flowcharts", "正定县一般程序")}


def catalogue_form(world, kind=CatalogueKind.ENFORCEMENT_ITEMS, *, agency=None, number=1, items=None, **changes) -> dict:
    form = {"schema": "catalogue_version/1", "agency": (agency or world.amr_zhengding).credit_code, "kind": kind,
            "number": number, "effective_date": "2026-11-01", "filed_at": "2026-10-28T10:00:00+08:00",
            "items": items if items is not None else [dict(i) for i in ITEMS[kind]]}
    form.update(changes)
    return form


def send_version(key, form: dict, *, version: int = 1) -> dict:
    return send(key, object_type="catalogue_version", event="catalogue_version.accepted",
                key_name=f"{form['agency']}/{form['kind']}/{form['number']}", version=version, data=form)


@pytest.fixture
def upstream(settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county.pem")
    return services.configure_upstream(actor="test", url="http://127.0.0.1:9/api/v1/docking/messages",
                                       instance_code="zhengding")


@pytest.fixture
def county_people(world):
    def user(username, role, agency):
        return core_services.create_user(actor="test-fixture", username=username, password=world.password, role=role,
                                         agency=agency)
    world.u_pub_zhengding = user("pub_zhengding", Role.PUBLICITY_ADMIN, world.amr_zhengding)
    world.u_head_zhengding = user("head_zhengding", Role.AGENCY_HEAD, world.amr_zhengding)
    return world


def test_an_accepted_version_writes_one_outbox_message_with_its_public_content_and_a_returned_one_none(
        county_people, upstream):
    world = county_people
    version = draft_with(editor=world.u_pub_zhengding, agency=world.amr_zhengding, kind=CatalogueKind.INSPECTION_ITEMS)
    catalog_services.submit_version(actor=world.u_pub_zhengding, version=version, effective_date=date(2026, 11, 1))
    catalog_services.return_version(actor=world.u_legal_sjz, version=version, reason="抽查比例依据不足")
    assert not OutboxMessage.objects.exists()  # a draft, a submission, a return: nothing travels
    catalog_services.submit_version(actor=world.u_pub_zhengding, version=version, effective_date=date(2026, 11, 1))
    catalog_services.accept_version(actor=world.u_legal_sjz, version=version)

    [message] = OutboxMessage.objects.all()
    key = f"{world.amr_zhengding.credit_code}/inspection_items/1"
    assert (message.object_type, message.object_key, message.version) == ("catalogue_version", key, 1)
    form = json.loads(message.body)["data"]["object"]
    schema = json.loads((SCHEMAS / "catalogue_version.v1.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(form, schema)
    assert (form["kind"], form["number"], form["effective_date"]) == ("inspection_items", 1, "2026-11-01")
    assert [i["code"] for i in form["items"]] == ["SJ-CC-001", "SJ-CC-002"] and form["items"][0]["ratio"] == "5.00"
    assert "抽查比例依据不足" not in json.dumps(form, ensure_ascii=False)  # the return's reason stays at home


def test_every_public_kind_travels_in_the_documented_schema_and_the_review_catalogue_does_not(
        county_people, upstream):
    world = county_people
    for kind in (CatalogueKind.ENFORCEMENT_ITEMS, CatalogueKind.SERVICE_GUIDES, CatalogueKind.FLOWCHARTS):
        version = draft_with(editor=world.u_pub_zhengding, agency=world.amr_zhengding, kind=kind)
        catalog_services.submit_version(actor=world.u_pub_zhengding, version=version, effective_date=date(2026, 11, 1))
        catalog_services.accept_version(actor=world.u_legal_sjz, version=version)
    schema = json.loads((SCHEMAS / "catalogue_version.v1.schema.json").read_text(encoding="utf-8"))
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert len(messages) == 3
    for message in messages:
        form = json.loads(message.body)["data"]["object"]
        jsonschema.validate(form, schema)
    review = catalog_services.start_draft(actor=world.u_head_zhengding, agency=world.amr_zhengding,
                                          kind=CatalogueKind.REVIEW_CATALOGUE)
    catalog_services.add_review_rule(actor=world.u_head_zhengding, version=review, title="较大数额罚款")
    catalog_services.submit_version(actor=world.u_head_zhengding, version=review, effective_date=date(2026, 11, 1))
    catalog_services.accept_version(actor=world.u_legal_sjz, version=review)
    assert OutboxMessage.objects.count() == 3


def test_without_an_upstream_an_accepted_version_writes_no_message(county_people, settings, tmp_path):
    world = county_people
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county.pem")
    version = draft_with(editor=world.u_pub_zhengding, agency=world.amr_zhengding, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    catalog_services.submit_version(actor=world.u_pub_zhengding, version=version, effective_date=date(2026, 11, 1))
    catalog_services.accept_version(actor=world.u_legal_sjz, version=version)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("kind", list(PAGES))
def test_the_province_files_a_received_version_and_its_public_page_shows_it_in_force_with_its_source(
        world, county, kind):
    instance, key = county
    answer = send_version(key, catalogue_form(world, kind))
    assert answer["outcome"] == "applied", answer
    version = CatalogueVersion.objects.get(pk=answer["local_id"])
    assert (version.agency, version.kind, version.number, version.status, version.received_from) == (
        world.amr_zhengding, kind, 1, VersionStatus.ACCEPTED, PLATFORM)
    assert version.items().count() == len(ITEMS[kind])
    assert FilingEvent.objects.get(version=version).text == f"由下级平台“{PLATFORM}”报送"
    assert AuditEntry.objects.filter(action="catalog.receive", actor="instance:zhengding").count() == 1

    slug, shown = PAGES[kind]
    agency_id = world.amr_zhengding.pk
    page = Client().get(f"/catalog/agency/{agency_id}/{slug}/").content.decode()
    assert shown in page and SHOWN in page, page
    history = Client().get(f"/catalog/agency/{agency_id}/{slug}/history/").content.decode()
    assert SHOWN in history
    index = Client().get("/catalog/").content.decode()
    assert "正定县市场监督管理局" in index  # in force for the agency like a local list
    if kind == CatalogueKind.ENFORCEMENT_ITEMS:  # the public API says it too
        api = Client().get(f"/api/v1/catalog/agencies/{agency_id}/enforcement-items").json()
        assert api["version"]["received_from"] == PLATFORM and len(api["items"]) == 2
    if kind == CatalogueKind.SERVICE_GUIDES:
        guide = version.items().get()
        assert SHOWN in Client().get(f"/catalog/agency/{agency_id}/guides/{guide.pk}/").content.decode()
    if kind == CatalogueKind.FLOWCHARTS:
        chart = Client().get(f"/catalog/agency/{agency_id}/flowcharts/penalty/general/")
        assert chart.status_code == 200 and SHOWN in chart.content.decode()


@pytest.fixture
def cw_local(world):
    editor = core_services.create_user(actor="test-fixture", username="pub_changan", password=world.password,
                                       role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    version = draft_with(editor=editor, agency=world.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    catalog_services.submit_version(actor=editor, version=version, effective_date=date(2026, 1, 1))
    catalog_services.accept_version(actor=world.u_legal_sjz, version=version)
    return world


def test_a_local_version_shows_no_source(cw_local):
    page = Client().get(f"/catalog/agency/{cw_local.amr_changan.pk}/items/").content.decode()
    assert "SJ-CF-001" in page and "由下级平台" not in page
    api = Client().get(f"/api/v1/catalog/agencies/{cw_local.amr_changan.pk}/enforcement-items").json()
    assert api["version"]["received_from"] == ""


def test_a_version_of_an_agency_outside_the_platforms_regions_is_refused(world, county):
    _, key = county
    answer = send_version(key, catalogue_form(world, agency=world.amr_lunan))
    assert answer["outcome"] == "refused" and answer["code"] == "out_of_scope"
    assert world.amr_lunan.credit_code in answer["message"]
    assert not CatalogueVersion.objects.exists()


def test_the_same_version_again_is_applied_when_identical_and_refused_naming_the_field_when_changed(world, county):
    _, key = county
    first = send_version(key, catalogue_form(world), version=1)
    again = send_version(key, catalogue_form(world), version=2)
    assert first["outcome"] == again["outcome"] == "applied" and first["local_id"] == again["local_id"]
    changed_items = [dict(i) for i in ITEMS[CatalogueKind.ENFORCEMENT_ITEMS]]
    changed_items[1]["name"] = "食品经营许可（改）"
    changed = send_version(key, catalogue_form(world, items=changed_items), version=3)
    assert changed["outcome"] == "refused" and changed["code"] == "version_frozen"
    assert changed["message"].startswith("items[1].name："), changed["message"]
    later = send_version(key, catalogue_form(world, effective_date="2026-12-01"), version=4)
    assert later["code"] == "version_frozen" and later["message"].startswith("effective_date：")
    [version] = CatalogueVersion.objects.all()
    assert [i.name for i in version.items()] == ["对销售过期食品的行政处罚", "食品经营许可"]
    assert version.effective_date == date(2026, 11, 1)


def test_a_version_number_the_province_compiled_itself_is_not_taken_over(world, county):
    _, key = county
    editor = core_services.create_user(actor="test-fixture", username="head_zd", password=world.password,
                                       role=Role.PUBLICITY_ADMIN, agency=world.amr_zhengding)
    local = draft_with(editor=editor, agency=world.amr_zhengding, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    answer = send_version(key, catalogue_form(world))
    assert answer["outcome"] == "refused" and answer["code"] == "number_taken" and answer["message"].startswith("number：")
    local.refresh_from_db()
    assert local.status == VersionStatus.DRAFT and not local.received_from


def _with_item(world, kind=CatalogueKind.ENFORCEMENT_ITEMS, **changes):
    items = [dict(i) for i in ITEMS[kind]]
    items[0].update(changes)
    return catalogue_form(world, kind, items=items)


@pytest.mark.parametrize("make, field", [
    (lambda w: catalogue_form(w, items=[]), "items"),
    (lambda w: catalogue_form(w, items="清单"), "items"),
    (lambda w: catalogue_form(w, items=["一项"]), "items[0]"),
    (lambda w: {**catalogue_form(w), "kind": "review_catalogue"}, "kind"),
    (lambda w: catalogue_form(w, number="1"), "number"),
    (lambda w: catalogue_form(w, number=0), "number"),
    (lambda w: catalogue_form(w, effective_date="2026-13-01"), "effective_date"),
    (lambda w: catalogue_form(w, filed_at="2026-10-28 10:00"), "filed_at"),
    (lambda w: _with_item(w, act_kind="罚款"), "items[0].act_kind"),
    (lambda w: _with_item(w, name=""), "items[0].name"),
    (lambda w: _with_item(w, name=7), "items[0].name"),
    (lambda w: _with_item(w, code="x" * 65), "items[0].code"),
    (lambda w: _with_item(w, duty="查处\x07违法行为"), "items[0].duty"),
    (lambda w: _with_item(w, secret="内部"), "items[0].secret"),
    (lambda w: _with_item(w, code="ZD-XK-001"), "items[1].code"),
    (lambda w: _with_item(w, CatalogueKind.INSPECTION_ITEMS, ratio="五"), "items[0].ratio"),
    (lambda w: _with_item(w, CatalogueKind.INSPECTION_ITEMS, ratio="150"), "items[0].ratio"),
    (lambda w: _with_item(w, CatalogueKind.FLOWCHARTS, procedure="nowhere"), "items[0].procedure"),
])
def test_a_bad_version_is_refused_naming_the_field_and_nothing_is_written(world, county, make, field):
    _, key = county
    form = make(world)
    answer = send_version(key, form)
    assert answer["outcome"] == "refused" and answer["code"] == "invalid", answer
    assert answer["message"].startswith(f"{field}："), answer["message"]
    assert not CatalogueVersion.objects.exists()
    assert InboxMessage.objects.get().outcome == "refused"


def test_an_agency_the_province_has_not_registered_is_refused_as_unknown(world, county):
    _, key = county
    answer = send_version(key, {**catalogue_form(world), "agency": "91130123MA0000001X"})
    assert answer["outcome"] == "refused"  # out of scope or unknown: never a 500


# --- decisions name their source on the portal ---------------------------------------

def decision_form(world, external_id: str, doc_number: str) -> dict:
    record = {
        "doc_number": doc_number, "party_name": "张某某", "party_type": "natural_person",
        "decision_date": "2026-11-20", "violation_type": "销售过期食品",
        "facts": "当事人张某某于2026年10月在正定县某市场销售超过保质期的食品。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        "penalty_categories": ["罚款"], "fine_fen": 300000, "content": "罚款人民币3000元。",
    }
    return {"schema": "decision/1", "agency": world.amr_zhengding.credit_code, "external_id": external_id,
            "kind": "penalty", "status": "published", "source_version": 1, "record": record,
            "published_at": "2026-11-21T09:00:00+08:00", "publicity_end": None}


def send_decision(key, world, external_id: str, doc_number: str) -> dict:
    form = decision_form(world, external_id, doc_number)
    return send(key, object_type="decision", event="decision.published",
                key_name=f"{form['agency']}/{external_id}", version=1, data=form)


def _publish_locally(world, doc_number: str):
    from sanxiang.publicity import services as publicity_services
    from sanxiang.publicity.intake import validate_record
    from sanxiang.publicity.models import Decision

    record = {**decision_form(world, "LOCAL-1", doc_number)["record"], "external_id": "LOCAL-1", "kind": "penalty",
              "party_name": "李四", "party_id_number": "11010519491231002X"}
    validated, errors = validate_record(record, index=0)
    assert not errors, errors
    [result] = publicity_services.receive_records(actor="t", agency=world.amr_changan, records=[validated], source="api")
    decision = Decision.objects.get(pk=result.decision_id)
    if decision.status == "pending":
        publicity_services.publish_decision(actor="t", decision=decision, confirmed=True)
    return PublicDecision.objects.get(decision=decision)


def test_a_received_decision_names_its_platform_on_its_page_and_in_the_search_row_and_a_local_one_does_not(
        world, county):
    _, key = county
    answer = send_decision(key, world, "ZD-01", "正市监罚〔2026〕01号")
    assert answer["outcome"] == "applied", answer
    received = PublicDecision.objects.get(decision_id=answer["local_id"])
    assert received.received_from == PLATFORM
    local = _publish_locally(world, "长市监罚〔2026〕07号")
    assert local.received_from == ""

    page = Client().get(f"/decisions/{received.pk}/").content.decode()
    assert f"由下级平台“{PLATFORM}”报送" in page and "<dt>来源</dt>" in page
    assert "由下级平台" not in Client().get(f"/decisions/{local.pk}/").content.decode()

    rows = Client().get("/decisions/", {"q": "正市监罚〔2026〕01号"}).content.decode()
    assert "正市监罚〔2026〕01号" in rows and SHOWN in rows
    rows = Client().get("/decisions/", {"q": "长市监罚〔2026〕07号"}).content.decode()
    assert "长市监罚〔2026〕07号" in rows and "由下级平台" not in rows
    listing = Client().get("/decisions/").content.decode()  # the plain listing: one row names it, one does not
    assert listing.count(SHOWN) == 1
    home = Client().get("/").content.decode()  # the home page's latest decisions
    assert SHOWN in home


def test_naming_the_source_costs_no_query_per_search_row(world, county):
    _, key = county
    send_decision(key, world, "ZD-01", "正市监罚〔2026〕01号")

    def listing_queries():
        # The search form's lists are read in both listings (they are held
        # between requests, decision 0020: the first would count them alone).
        changes.forget_reference_lists()
        with CaptureQueriesContext(connection) as captured:
            page = Client().get("/decisions/").content.decode()
        return len(captured), page.count(SHOWN)

    one = listing_queries()
    for n in range(2, 7):
        send_decision(key, world, f"ZD-{n:02d}", f"正市监罚〔2026〕{n:02d}号")
    six = listing_queries()
    assert (one[1], six[1]) == (1, 6)
    assert six[0] == one[0], (one, six)


def test_a_correction_received_later_keeps_the_source(world, county):
    _, key = county
    send_decision(key, world, "ZD-01", "正市监罚〔2026〕01号")
    form = decision_form(world, "ZD-01", "正市监罚〔2026〕01号")
    form["record"]["content"] = "罚款人民币2000元。"
    form["record"]["fine_fen"] = 200000
    form["record"]["correction_reason"] = "复议变更罚款数额"
    answer = send(key, object_type="decision", event="decision.published", key_name=f"{form['agency']}/ZD-01",
                  version=2, data=form)
    assert answer["outcome"] == "applied", answer
    public = PublicDecision.objects.get(decision_id=answer["local_id"])
    assert public.version == 2 and public.received_from == PLATFORM


# --- officers: the 亮证 page names the platform that reported the officer -------------

def test_the_verification_page_of_an_officer_received_from_the_county_names_its_platform(world, county):
    from sanxiang.core.validators import make_certificate_number

    _, key = county
    cert = make_certificate_number("130123", 99001)
    officer = {"schema": "officer/1", "certificate_number": cert, "name": "钱学敏",
               "agency": world.amr_zhengding.credit_code, "post": "执法队员", "categories": ["penalty"],
               "enforcement_region": "130123", "valid_from": "2025-01-01", "valid_to": "2030-12-31", "status": "active"}
    assert send(key, object_type="officer", event="officer.changed", key_name=cert, version=1,
                data=officer)["outcome"] == "applied"
    page = Client().get(f"/verify/{cert}").content.decode()
    assert "钱学敏" in page and f"由下级平台“{PLATFORM}”报送" in page
    local = Client().get(f"/verify/{world.changan_officer.certificate_number}").content.decode()
    assert world.changan_officer.name in local and "由下级平台" not in local


# --- in a real browser, at phone and desktop width -------------------------------------

def test_a_visitor_sees_the_source_platform_on_the_decision_and_catalogue_pages_at_both_widths(
        cjk_fonts, browser_page, world, county, tmp_path):
    import os

    from sanxiang.conftest import no_horizontal_scroll

    _, key = county
    decision = send_decision(key, world, "ZD-01", "正市监罚〔2026〕01号")
    public = PublicDecision.objects.get(decision_id=decision["local_id"])
    assert send_version(key, catalogue_form(world))["outcome"] == "applied"
    shots = Path(os.environ.get("SANXIANG_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    pages = {
        "decision": (f"/decisions/{public.pk}/", f"由下级平台“{PLATFORM}”报送"),
        "search": ("/decisions/?q=正市监罚", SHOWN),
        "catalogue": (f"/catalog/agency/{world.amr_zhengding.pk}/items/", SHOWN),
    }
    for width, name in ((390, "phone"), (1280, "desktop")):
        page.set_viewport_size({"width": width, "height": 900})
        for what, (path, shown) in pages.items():
            page.goto(page.base + path)
            text = page.locator("main").inner_text()
            assert shown in text, (what, width)
            if width == 390:
                assert no_horizontal_scroll(page), what
            page.screenshot(path=str(shots / f"received-{what}-{name}.png"), full_page=True)
