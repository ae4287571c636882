"""The public catalogue API: lists in force, flowchart SVG, process
definitions; errors as {code, field, message}."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

from django.test import Client

from sanxiang.catalog import services
from sanxiang.catalog.models import PUBLIC_KINDS, CatalogueKind
from sanxiang.catalog.processes import get_process

from .conftest import draft_with, filed

BASE = "/api/v1/catalog"


def test_the_lists_in_force_are_public_json(cw):
    for kind in PUBLIC_KINDS:
        filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=kind, effective=date(2026, 1, 1))
    c = Client()
    a = cw.amr_changan.pk
    body = c.get(f"{BASE}/agencies/{a}/enforcement-items").json()
    assert body["version"]["number"] == 1 and body["version"]["effective_date"] == "2026-01-01"
    assert [i["code"] for i in body["items"]] == ["SJ-CF-001", "SJ-CF-002", "SJ-CF-003"]
    assert body["items"][0]["act_kind"] == "penalty" and body["items"][0]["enforcing_body"] == cw.amr_changan.name
    assert [i["code"] for i in c.get(f"{BASE}/agencies/{a}/enforcement-items", {"q": "处罚2"}).json()["items"]] == ["SJ-CF-002"]
    assert c.get(f"{BASE}/agencies/{a}/inspection-items").json()["items"][0]["ratio_percent"] in ("5.00", 5, "5", 5.0)
    guide = c.get(f"{BASE}/agencies/{a}/service-guides").json()["items"][0]
    assert len(guide) == 16 and guide["office_phone"] == "0311-12345678"
    charts = c.get(f"{BASE}/agencies/{a}/flowcharts").json()["items"]
    assert [(f["act_kind"], f["procedure"]) for f in charts] == [("penalty", "general"), ("penalty", "summary"), ("inspection", "general")]
    assert c.get(f"{BASE}/agencies/{a}/enforcement-items/history").json()["versions"][0]["number"] == 1


def test_the_flowchart_svg_is_drawn_from_the_process_definition(cw):
    filed(editor=cw.u_pub_changan, decider=cw.u_legal_sjz, agency=cw.amr_changan, kind=CatalogueKind.FLOWCHARTS)
    response = Client().get(f"{BASE}/agencies/{cw.amr_changan.pk}/flowcharts/penalty/general.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    codes = [g.get("data-step") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-step")]
    assert codes == list(get_process("penalty", "general").codes)

    missing = Client().get(f"{BASE}/agencies/{cw.amr_changan.pk}/flowcharts/fee/general.svg")
    assert missing.status_code == 404 and missing.json()["code"] == "flowchart_not_published"


def test_process_definitions_are_served_as_json_and_svg():
    c = Client()
    body = c.get(f"{BASE}/processes/penalty/general").json()
    assert [s["code"] for s in body["steps"]] == list(get_process("penalty", "general").codes)
    assert c.get(f"{BASE}/processes/penalty/summary.svg")["Content-Type"].startswith("image/svg+xml")
    assert len(c.get(f"{BASE}/processes").json()) >= 7
    error = c.get(f"{BASE}/processes/penalty/nonexistent").json()
    assert error == {"code": "process_not_found", "field": "act_kind", "message": error["message"]} and "penalty-nonexistent" in error["message"]


def test_drafts_and_submissions_are_not_served_and_errors_are_json(cw):
    draft = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    services.submit_version(actor=cw.u_pub_changan, version=draft, effective_date=date(2026, 1, 1))
    c = Client()
    response = c.get(f"{BASE}/agencies/{cw.amr_changan.pk}/enforcement-items")
    assert response.status_code == 404
    assert response.json() == {"code": "no_version_in_force", "field": None, "message": "该部门的此项清单尚无生效版本。"}
    assert c.get(f"{BASE}/agencies/{cw.amr_changan.pk}/enforcement-items", {"version": 1}).json()["code"] == "version_not_found"
    assert c.get(f"{BASE}/agencies/999999/enforcement-items").json()["field"] == "agency_id"
    assert c.get(f"{BASE}/agencies/{cw.amr_changan.pk}/enforcement-items", {"version": "x"}).json()["field"] == "version"
