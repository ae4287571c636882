"""The push API of decisions (公示-14) through HTTP: Django's test client,
and one test over a real server (live_server + requests)."""

from __future__ import annotations

import importlib
import json

import pytest
import requests
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve

from sanxiang.api.services import create_token
from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.publicity.models import Decision, DecisionVersion

from .test_intake import company_code, penalty_record, person_penalty, licence_record
from sanxiang.core import clock

URL = "/api/v1/publicity/decisions"


@pytest.fixture(autouse=True)
def publicity_api_mounted():
    """The integrator mounts the router in sanxiang/api_root.py; until then
    mount it here, for this test process only."""
    try:
        resolve(URL)
        return
    except Resolver404:
        pass
    from sanxiang.api_root import api
    from sanxiang.publicity.api import router

    if all(r is not router for _, r in api._routers):
        api._bound_routers_cache = None  # ninja refuses routers added after api.urls was read
        api.add_router("/publicity", router)
    import sanxiang.urls

    importlib.reload(sanxiang.urls)
    clear_url_caches()


def token_for(agency, *scopes) -> str:
    return create_token(actor="test", agency=agency, name="case system", scopes=list(scopes) or ["publicity:push"])[1]


def push(client, token, records, **extra):
    return client.post(URL, data=json.dumps({"records": records}, ensure_ascii=False),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


@pytest.fixture
def changan_token(world):
    return token_for(world.amr_changan, "publicity:push")


def test_pushing_the_same_agency_and_external_id_twice_leaves_one_decision_with_two_versions(world, changan_token):
    client = Client()
    first = push(client, changan_token, [penalty_record(1)]).json()
    second = push(client, changan_token, [penalty_record(1, content="罚款40000元。", fine_yuan="40000",
                                                         correction_reason="复议变更罚款数额")]).json()
    assert first["results"][0]["status"] == "created" and first["results"][0]["version"] == 1
    assert second["results"][0]["status"] == "corrected" and second["results"][0]["version"] == 2
    assert second["results"][0]["decision_id"] == first["results"][0]["decision_id"]
    decision = Decision.objects.get(agency=world.amr_changan, external_id="CASE-2026-00001")
    assert Decision.objects.filter(agency=world.amr_changan).count() == 1
    assert list(decision.versions.values_list("number", flat=True)) == [1, 2]
    assert decision.data["fine_fen"] == 4_000_000
    assert decision.versions.get(number=2).reason == "复议变更罚款数额"
    assert decision.versions.get(number=1).source == "api"


def test_a_batch_with_one_malformed_record_stores_all_others_and_names_the_bad_one(world, changan_token):
    records = [penalty_record(n) for n in range(1, 6)]
    records[2]["party_credit_code"] = "91130102MA0XXXXX00"
    records[2]["fine_yuan"] = "1.005"
    response = push(Client(), changan_token, records)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (4, 1)
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
    bad = body["results"][2]
    assert bad["status"] == "rejected" and bad["external_id"] == "CASE-2026-00003" and bad["decision_id"] is None
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {("party_credit_code", "credit_code_checksum"),
                                                                 ("fine_yuan", "money_precision")}
    assert all(e["message"] for e in bad["errors"])
    good = [r for r in body["results"] if r["status"] == "created"]
    assert len(good) == 4 and all(r["publication_due"] and r["version"] == 1 for r in good)
    stored = set(Decision.objects.filter(agency=world.amr_changan).values_list("external_id", flat=True))
    assert stored == {f"CASE-2026-{n:05d}" for n in (1, 2, 4, 5)}
    assert DecisionVersion.objects.filter(decision__agency=world.amr_changan).count() == 4
    assert AuditEntry.objects.filter(action="publicity.receive").count() == 1


def test_money_in_yuan_is_stored_exactly_in_fen(world, changan_token):
    # A JSON number, not a string: read as an exact decimal, never a float.
    body = '{"records": [%s]}' % json.dumps(penalty_record(1, fine_yuan="__X__"), ensure_ascii=False).replace('"__X__"', "12000.50")
    response = Client().post(URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {changan_token}")
    assert response.json()["accepted"] == 1
    push(Client(), changan_token, [penalty_record(2, fine_yuan="12000.50")])
    fines = dict(Decision.objects.values_list("external_id", "data__fine_fen"))
    assert fines == {"CASE-2026-00001": 1_200_050, "CASE-2026-00002": 1_200_050}


def test_every_kind_of_record_reports_its_own_error_codes(world, changan_token):
    from datetime import timedelta

    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    person = person_penalty(1)
    person["party_id_number"] = person["party_id_number"][:17] + ("0" if person["party_id_number"][17] != "0" else "1")
    records = [person, penalty_record(2, decision_date=tomorrow),
               penalty_record(3, penalty_categories=["罚款", "打板子"], confiscation_yuan=None), licence_record(4)]
    results = push(Client(), changan_token, records).json()["results"]
    assert [[e["code"] for e in r["errors"]] for r in results] == [
        ["id_number_checksum"], ["date_in_future"], ["unknown_category"], []]
    assert results[3]["status"] == "created"


def test_a_token_without_the_push_scope_is_refused(world):
    token = token_for(world.amr_changan, "read")
    response = push(Client(), token, [penalty_record(1)])
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"
    assert not Decision.objects.exists()


def test_no_token_or_a_wrong_token_is_unauthenticated(world):
    assert Client().post(URL, data="{}", content_type="application/json").status_code == 401
    assert push(Client(), "sx_deadbeef_nope", [penalty_record(1)]).status_code == 401


def test_a_token_of_agency_a_cannot_read_agency_b_record(world, changan_token):
    push(Client(), changan_token, [penalty_record(1)])
    zhengding = token_for(world.amr_zhengding)
    client = Client()
    own = client.get(f"{URL}/CASE-2026-00001", HTTP_AUTHORIZATION=f"Bearer {changan_token}")
    assert own.status_code == 200
    assert own.json()["version"] == 1 and own.json()["status"] == "pending" and own.json()["publication_due"]
    other = client.get(f"{URL}/CASE-2026-00001", HTTP_AUTHORIZATION=f"Bearer {zhengding}")
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    # The same external id pushed by agency B is B's own decision, not a correction of A's.
    result = push(client, zhengding, [penalty_record(1)]).json()["results"][0]
    assert result["status"] == "created"
    assert Decision.objects.filter(external_id="CASE-2026-00001").count() == 2


def test_more_than_1000_records_are_refused_whole(world, changan_token):
    response = push(Client(), changan_token, [penalty_record(n) for n in range(1001)])
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large" and response.json()["field"] == "records"
    assert not Decision.objects.exists()


def test_a_body_that_is_not_the_expected_json_gets_a_json_error(world, changan_token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {changan_token}"}
    bad = Client().post(URL, data="{not json", content_type="application/json", **auth)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_json"
    missing = Client().post(URL, data='{"items": []}', content_type="application/json", **auth)
    assert missing.status_code == 422 and missing.json()["code"] == "records_missing"


def test_a_publicity_administrator_may_push_for_their_agency_and_an_officer_may_not(world):
    admin = core_services.create_user(actor="t", username="pub_changan", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    client = Client()
    client.force_login(admin)
    body = json.dumps({"records": [penalty_record(1)]}, ensure_ascii=False)
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 200 and response.json()["accepted"] == 1
    assert Decision.objects.get().agency == world.amr_changan
    officer = Client()
    officer.force_login(world.u_changan)
    refused = officer.post(URL, data=body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"


def test_a_case_system_pushes_over_a_real_http_server(live_server, world):
    token = token_for(world.amr_changan)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    records = [penalty_record(n) for n in range(1, 51)] + [licence_record(n) for n in range(1, 51)]
    records[10]["decision_date"] = "2026-13-01"
    response = session.post(f"{live_server.url}{URL}", json={"records": records}, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (99, 1)
    assert body["results"][10]["errors"][0]["code"] == "date_format"
    status = session.get(f"{live_server.url}{URL}/XK-2026-00007", timeout=10).json()
    assert status["kind"] == "license" and status["version"] == 1
    assert Decision.objects.filter(agency=world.amr_changan).count() == 99
    assert company_code(1) in {d["party_credit_code"] for d in Decision.objects.values_list("data", flat=True)}
