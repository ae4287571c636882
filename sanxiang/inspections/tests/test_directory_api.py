"""The directory's API for case systems and agency tools: a token with
scope inspections:directory lists, adds, re-tiers and imports; a read-only
token only lists; no token, no access; natural persons' ID numbers only
masked; refusals as {code, field, message}; the OpenAPI document stays valid."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.inspections.models import InspectionObject
from sanxiang.inspections.tests.test_directory_import import credit, csv_bytes, person, row


def token_client(cw, scopes) -> Client:
    _, clear = create_token(actor="test-fixture", agency=cw.amr_changan, name="案件系统", scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def test_a_token_adds_lists_retiers_and_imports_objects_and_never_sees_a_full_id(cw):
    api = token_client(cw, ["inspections:directory"])
    r = api.post("/api/v1/inspections/objects", json.dumps({
        "name": "长安区第一食品店", "credit_code": credit(1), "region": "130102", "risk_tier": "C",
        "labels": ["投诉举报"]}), content_type="application/json")
    assert r.status_code == 201, r.content
    first = r.json()
    assert first["risk_tier"] == "C" and first["labels"] == ["投诉举报"] and first["region_name"] == "长安区"
    number = person(3)
    r = api.post("/api/v1/inspections/objects", json.dumps({"name": "王小明", "id_number": number, "region": "130102"}),
                 content_type="application/json")
    assert r.status_code == 201 and number not in r.content.decode() and r.json()["id_masked"].endswith(number[-4:])
    again = api.post("/api/v1/inspections/objects", json.dumps({"name": "王小明", "id_number": number, "region": "130102"}),
                     content_type="application/json")
    assert again.status_code == 422 and again.json()["code"] == "taken" and again.json()["field"] == "id_number"
    r = api.patch(f"/api/v1/inspections/objects/{first['id']}", json.dumps({"risk_tier": "D", "labels": ["经营异常名录"]}),
                  content_type="application/json")
    assert r.status_code == 200 and (r.json()["risk_tier"], r.json()["labels"]) == ("D", ["经营异常名录"])
    bad = api.patch(f"/api/v1/inspections/objects/{first['id']}", json.dumps({"risk_tier": "Z"}),
                    content_type="application/json")
    assert bad.status_code == 422 and bad.json()["field"] == "risk_tier"
    upload = SimpleUploadedFile("名录.csv", csv_bytes([row("长安区第二食品店", code=credit(2)), row("", code=credit(4)),
                                                       row("长安区第一食品店", code=credit(1), tier="A")]))
    r = api.post("/api/v1/inspections/objects/import", {"file": upload})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["created"], body["updated"], body["refused_rows"]) == (1, 1, 1)
    assert body["refused"][0]["row"] == 3 and body["refused"][0]["column"] == "名称" and body["refused"][0]["message"]
    listed = api.get("/api/v1/inspections/objects", {"q": "食品店"}).json()
    assert listed["count"] == 2 and {o["name"] for o in listed["results"]} == {"长安区第一食品店", "长安区第二食品店"}
    assert api.get("/api/v1/inspections/objects", {"q": number}).json()["count"] == 1  # found by its key
    assert api.get("/api/v1/inspections/objects", {"tier": "A"}).json()["count"] == 1
    assert api.get("/api/v1/inspections/objects", {"region": "130202"}).json()["count"] == 0
    whole = api.get("/api/v1/inspections/objects").content.decode()
    assert number not in whole
    assert InspectionObject.objects.count() == 3


def test_a_read_token_only_reads_and_no_token_is_401(cw):
    reader = token_client(cw, ["read"])
    assert reader.get("/api/v1/inspections/objects").status_code == 200
    r = reader.post("/api/v1/inspections/objects", json.dumps({"name": "x", "credit_code": credit(1), "region": "130102"}),
                    content_type="application/json")
    assert r.status_code == 403
    assert Client().get("/api/v1/inspections/objects").status_code == 401
    assert reader.get("/api/v1/inspections/objects", {"page": "0"}).status_code == 422
    unreadable = reader.post("/api/v1/inspections/objects/import", {"file": SimpleUploadedFile("x.csv", b"a")})
    assert unreadable.status_code == 403
    writer = token_client(cw, ["inspections:directory"])
    broken = writer.post("/api/v1/inspections/objects/import", {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert broken.status_code == 422 and broken.json()["field"] == "file"


def test_the_openapi_document_lists_the_directory_endpoints(db):
    doc = Client().get("/api/v1/openapi.json").json()
    assert {"get", "post"} <= set(doc["paths"]["/api/v1/inspections/objects"])
    assert "patch" in doc["paths"]["/api/v1/inspections/objects/{object_id}"]
    assert "multipart/form-data" in doc["paths"]["/api/v1/inspections/objects/import"]["post"]["requestBody"]["content"]
