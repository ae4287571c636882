"""Bad input gets a clear 4xx, never a 5xx (issue 9, section 1): numbers
beyond 64 bits and digits that are not ASCII, JSON nested 100,000 deep,
control characters in a published record (the feed), calls without
credentials, CSRF and parse failures in the documented error shape, and
HEAD answers without a body on a real keep-alive connection."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import get_resolver
from django.urls.resolvers import RoutePattern, URLPattern, URLResolver

from sanxiang.api.services import create_token
from sanxiang.core import services as core_services
from sanxiang.core.models import Role

BIG = "99999999999999999999999"  # > 2**64
JUST_OVER = str(2**63)  # one past the largest id
NOT_ASCII = ["¹²", "１２", "١٢", "+12", "1_000", " 12", "12.0"]


def error_shape(r) -> dict:
    body = r.json()
    assert {"code", "field", "message"} <= set(body), body
    assert "detail" not in body
    return body


@pytest.fixture
def token_client(world):
    _, clear = create_token(actor="t", agency=world.amr_changan, name="系统",
                            scopes=["read", "cases:write", "publicity:push", "evidence:upload"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}", raise_request_exception=False)


API_INT_PARAMETERS = [
    ("/api/v1/agencies/{}", "agency_id"),
    ("/api/v1/officers/{}", "officer_id"),
    ("/api/v1/public/officers?agency={}", "agency"),
    ("/api/v1/officers?limit={}", "limit"),
    ("/api/v1/officers?offset={}", "offset"),
    ("/api/v1/cases?limit={}", "limit"),
    ("/api/v1/cases/{}", "case_id"),
    ("/api/v1/publicity/search?page={}", "page"),
    ("/api/v1/publicity/search?page_size={}", "page_size"),
    ("/api/v1/publicity/search?agency={}", "agency"),
    ("/api/v1/publicity/withdrawals?agency={}", "agency"),
    ("/api/v1/publicity/withdrawals?limit={}", "limit"),
    ("/api/v1/publicity/public/{}", "public_id"),
    ("/api/v1/evidence/items?case={}", "case"),
    ("/api/v1/evidence/items/{}", "item_id"),
    ("/api/v1/catalog/agencies/{}/enforcement-items", "agency_id"),
    ("/api/v1/documents/{}", "document_id"),
    ("/api/v1/review/cases/{}", "case_id"),
]


@pytest.mark.parametrize("url,field", API_INT_PARAMETERS, ids=[f for _, f in API_INT_PARAMETERS])
def test_integers_beyond_64_bits_in_api_parameters_are_422_naming_the_field(token_client, url, field):
    for value in (BIG, JUST_OVER):
        r = token_client.get(url.format(value))
        assert r.status_code == 422, (url, value, r.status_code, r.content[:300])
        body = error_shape(r)
        assert body["field"] == field and "无效" in body["message"]


@pytest.mark.parametrize("value", NOT_ASCII)
def test_digits_int_would_misread_are_refused_in_api_parameters(token_client, value):
    for url, field in [("/api/v1/publicity/search?page={}", "page"), ("/api/v1/agencies/{}", "agency_id"),
                       ("/api/v1/evidence/items?case={}", "case")]:
        r = token_client.get(url.format(quote(value)))
        assert r.status_code == 422, (url, value, r.status_code)
        assert error_shape(r)["field"] == field


def test_ids_beyond_64_bits_in_json_bodies_are_422_naming_the_element(world, token_client):
    r = token_client.post("/api/v1/cases", json.dumps({
        "title": "t", "act_kind": "penalty", "party_name": "某公司", "party_type": "legal_person",
        "officer_ids": [world.changan_officer.pk, int(BIG)]}), content_type="application/json")
    assert r.status_code == 422, r.content[:300]
    assert error_shape(r)["field"] == "officer_ids.1"
    r = token_client.post("/api/v1/cases", json.dumps({
        "title": "t", "act_kind": "penalty", "party_name": "某公司", "party_type": "legal_person",
        "officer_ids": [True]}), content_type="application/json")
    assert r.status_code == 422 and error_shape(r)["field"] == "officer_ids.0"


def test_every_integer_a_client_sends_is_bounded_in_the_openapi(db):
    """The class guard: every integer parameter or request-body property of
    every operation has a maximum (the one parsing layer's types)."""
    doc = Client().get("/api/v1/openapi.json").json()
    unbounded = []

    def walk(schema, where):
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            if name in seen:
                return
            seen.add(name)
            walk(doc["components"]["schemas"][name], f"{where}→{name}")
            return
        if schema.get("type") == "integer" and "maximum" not in schema:
            unbounded.append(where)
        for key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(schema.get(key, [])):
                walk(sub, where)
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{where}[]")
        if isinstance(schema.get("additionalProperties"), dict):
            walk(schema["additionalProperties"], f"{where}{{}}")

    for path, item in doc["paths"].items():
        for method, op in item.items():
            seen: set[str] = set()
            for p in op.get("parameters", []):
                walk(p.get("schema", {}), f"{method.upper()} {path} {p['name']}")
            for media in op.get("requestBody", {}).get("content", {}).values():
                walk(media.get("schema", {}), f"{method.upper()} {path} body")
    assert not unbounded, unbounded


def test_page_urls_with_ids_beyond_64_bits_are_404_not_500(world):
    c = Client(raise_request_exception=False)
    c.force_login(world.u_admin)
    for url in (f"/workbench/cases/{BIG}/archives/", f"/documents/case/{BIG}/", f"/decisions/feed/{BIG}/",
                f"/catalog/agency/{JUST_OVER}/", f"/workbench/cases/{JUST_OVER}/steps/1/evidence/"):
        assert c.get(url).status_code == 404, url


def test_every_url_pattern_takes_ids_through_the_bounded_converter():
    """No page URL uses Django's <int:...>, which matches any run of digits."""
    found = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and isinstance(p.pattern, RoutePattern):
                if "<int:" in str(p.pattern._route):
                    found.append(prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    assert not found, found


@pytest.mark.parametrize("query", [f"page={BIG}", "page=¹²", f"agency={BIG}", "agency=¹²", "page=0"])
def test_public_search_page_answers_400_in_chinese_for_a_bad_number(db, query):
    r = Client(raise_request_exception=False).get(f"/decisions/?{query}")
    assert r.status_code == 400, (query, r.status_code)
    text = r.content.decode()
    assert "请求无效" in text and ("整数" in text or "范围" in text)


def test_officer_list_page_answers_400_for_an_agency_beyond_64_bits(db):
    r = Client(raise_request_exception=False).get(f"/officers/?agency={BIG}")
    assert r.status_code == 400 and "agency" in r.content.decode()


# --- tus headers ------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["HTTP_UPLOAD_LENGTH"])
@pytest.mark.parametrize("value", ["¹²", "١٢", BIG + BIG, "-1", "12 "])
def test_tus_upload_length_that_is_not_an_ascii_integer_is_400(token_client, header, value):
    r = token_client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", **{header: value})
    assert r.status_code == 400, (value, r.status_code, r.content[:200])
    assert error_shape(r)["field"] == "Upload-Length"


def test_tus_metadata_with_a_superscript_case_id_is_a_clear_400(token_client):
    import base64

    def b64(s):
        return base64.b64encode(s.encode()).decode()

    meta = f"case {b64('¹²')},sha256 {b64('0' * 64)}"
    r = token_client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10",
                          HTTP_UPLOAD_METADATA=meta)
    assert r.status_code == 400 and error_shape(r)["field"] == "case"
    meta = f"case {b64(BIG)},sha256 {b64('0' * 64)}"
    r = token_client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10",
                          HTTP_UPLOAD_METADATA=meta)
    assert r.status_code == 400 and error_shape(r)["field"] == "case"


# --- JSON bodies ------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("url", ["/api/v1/publicity/decisions", "/api/v1/cases", "/api/v1/review/cases/1/flags"])
def test_json_nested_100000_deep_is_400_not_recursion_error(token_client, url):
    r = token_client.post(url, DEEP, content_type="application/json")
    assert r.status_code == 400, (url, r.status_code, r.content[:200])
    assert error_shape(r)["code"] == "json_too_deep"


def test_json_nested_just_beyond_the_limit_is_refused_and_within_it_parsed(token_client):
    from sanxiang.core.parsing import MAX_JSON_DEPTH

    too_deep = {"records": [json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)]}
    r = token_client.post("/api/v1/publicity/decisions", json.dumps(too_deep), content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "json_too_deep"
    fine = {"records": [{"external_id": "X"}]}
    r = token_client.post("/api/v1/publicity/decisions", json.dumps(fine), content_type="application/json")
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"


def test_an_unparsable_body_answers_the_documented_error_shape(token_client):
    r = token_client.post("/api/v1/cases", "{not json", content_type="application/json")
    assert r.status_code == 400
    assert error_shape(r)["code"] == "invalid_json"
    r = token_client.post("/api/v1/cases", b"\xff\xfe", content_type="application/json")
    assert r.status_code == 400 and error_shape(r)["code"] == "invalid_json"


# --- authentication and CSRF ------------------------------------------------------------

def test_a_post_without_token_or_session_is_401_not_a_csrf_403(db):
    c = Client(enforce_csrf_checks=True)
    for url in ("/api/v1/cases", "/api/v1/publicity/decisions", "/api/v1/review/cases/1/flags"):
        r = c.post(url, "{}", content_type="application/json")
        assert r.status_code == 401, (url, r.status_code, r.content)
        assert error_shape(r)["code"] == "unauthenticated"


def test_a_session_post_without_csrf_token_is_403_in_the_error_shape(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.u_changan)  # an officer: no TOTP needed for a full session
    r = c.post("/api/v1/cases", "{}", content_type="application/json")
    assert r.status_code == 403
    body = error_shape(r)
    assert body["code"] == "csrf_failed" and "CSRF" in body["message"]


def test_a_session_post_with_its_csrf_token_passes_the_check(world):
    c = Client(enforce_csrf_checks=True)
    c.force_login(world.u_changan)  # an officer: no TOTP needed for a full session
    c.get("/login/")  # sets the csrftoken cookie
    token = c.cookies["csrftoken"].value
    r = c.post("/api/v1/cases", "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 422  # past authentication and CSRF: the body is checked


# --- the feed ---------------------------------------------------------------------------

def test_a_published_record_with_control_characters_does_not_break_its_agencys_feed(world):
    from xml.etree import ElementTree

    from sanxiang.publicity import services
    from sanxiang.publicity.models import Decision, PublicDecision

    admin = core_services.create_user(actor="t", username="pub_feed", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    services.receive_records(actor="t", agency=world.amr_changan, source="api", records=[{
        "external_id": "CTRL-1", "kind": "penalty", "doc_number": "冀长市监罚〔2026〕1号",
        "party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person",
        "party_credit_code": "91350100M000100Y43", "decision_date": "2026-09-30",
        "penalty_categories": ["罚款"], "fine_fen": 100000, "content": "罚款人民币1000元。"}])
    public = services.publish_decision(actor=admin, decision=Decision.objects.get(external_id="CTRL-1"))
    # A record stored before intake refused control characters (or by a path
    # that did not): every field the feed writes carries some.
    data = {**public.data, "content": "罚款\x07人民币\x1b1000元\x0c。\ufffe"}
    PublicDecision.objects.filter(pk=public.pk).update(doc_number="冀长市监罚\x01〔2026〕1号", title="行政处罚\x08决定",
                                                       data=data)
    type(world.amr_changan).objects.filter(pk=world.amr_changan.pk).update(name="石家庄市长安区\x0b市场监督管理局")
    r = Client(raise_request_exception=False).get(f"/decisions/feed/{world.amr_changan.pk}/")
    assert r.status_code == 200, r.status_code
    root = ElementTree.fromstring(r.content)  # well-formed XML 1.0
    text = "".join(root.itertext())
    assert "罚款人民币1000元。" in text and "冀长市监罚〔2026〕1号" in text and "石家庄市长安区市场监督管理局" in text


# --- HEAD over a real keep-alive connection ---------------------------------------------

@pytest.fixture
def waitress_server(transactional_db):
    """The WSGI application under waitress (what `sanxiang serve` runs): it
    sends whatever body the application returns, also for HEAD."""
    from django.core.wsgi import get_wsgi_application
    from waitress.server import create_server

    server = create_server(get_wsgi_application(), host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.close()
    thread.join(timeout=5)


def test_head_answers_carry_no_body_and_keep_alive_stays_in_step(world, waitress_server):
    _, clear = create_token(actor="t", agency=world.amr_changan, name="上传终端", scopes=["evidence:upload"])
    conn = http.client.HTTPConnection("127.0.0.1", waitress_server, timeout=10)
    heads = [
        ("/api/v1/uploads/no-such-upload", {"Tus-Resumable": "1.0.0", "Authorization": f"Bearer {clear}"}, 404),
        ("/api/v1/uploads/no-such-upload", {"Tus-Resumable": "1.0.0"}, 401),
        ("/decisions/", {}, 200),
        ("/no-such-page/", {}, 404),
    ]
    for path, headers, status in heads:
        conn.request("HEAD", path, headers=headers)
        r = conn.getresponse()
        assert r.status == status, (path, r.status)
        assert r.read() == b""
        # The next request on the same connection must get its own answer,
        # not the HEAD answer's stray body.
        conn.request("GET", "/api/v1/regions")
        r = conn.getresponse()
        assert r.status == 200, (path, r.status)
        assert isinstance(json.loads(r.read()), list)
    conn.close()
    # And on the wire: nothing after the HEAD answer's headers.
    with socket.create_connection(("127.0.0.1", waitress_server), timeout=5) as s:
        s.sendall(b"HEAD /api/v1/uploads/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                  + f"Authorization: Bearer {clear}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        s.settimeout(0.5)
        try:
            extra = s.recv(65536)
        except socket.timeout:
            extra = b""
        assert data.split(b"\r\n\r\n", 1)[1] + extra == b""


def test_a_session_post_with_a_multipart_body_without_boundary_is_400(world):
    from django.middleware.csrf import _get_new_csrf_string

    c = Client(enforce_csrf_checks=True, raise_request_exception=False)
    c.force_login(world.u_changan)
    csrf = _get_new_csrf_string()
    c.cookies["csrftoken"] = csrf  # Django reads the form for the token before the header
    r = c.generic("POST", "/api/v1/cases", b'{"title": "x"}', content_type="multipart/form-data",
                  HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 400, (r.status_code, r.content[:200])
    assert error_shape(r)["code"] == "invalid_body"


# --- the OpenAPI document ----------------------------------------------------------------

def test_openapi_component_names_are_unique_and_responses_use_their_own_schema(db):
    doc = Client().get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    step = doc["paths"]["/api/v1/cases/{case_id}/steps"]["post"]["responses"]["201"]["content"]["application/json"]
    assert step["schema"]["$ref"].endswith("/CaseStepOut")
    assert {"officers", "issued_documents", "status"} <= set(schemas["CaseStepOut"]["properties"])
    process = schemas["ProcessOut"]["properties"]["steps"]["items"]["$ref"]
    assert process.endswith("/ProcessStepOut") and "records" in schemas["ProcessStepOut"]["properties"]
    history = schemas["PublicDetailOut"]["properties"]["history"]["items"]["$ref"]
    assert history.endswith("/PublicVersionOut") and "reason" in schemas["PublicVersionOut"]["properties"]
    assert "effective_date" in schemas["CatalogueVersionOut"]["properties"]


def test_two_schemas_with_one_name_fail_the_document_instead_of_overwriting(db):
    """The guard itself: two routers each with a `StepOut` of different
    fields, like cases and catalog had."""
    from ninja import Router, Schema
    from ninja.errors import ConfigError

    from sanxiang.api.api import SanxiangAPI

    def router_with(fields):
        StepOut = type("StepOut", (Schema,), {"__annotations__": fields})  # noqa: N806
        router = Router()

        @router.get("/x", response=StepOut)
        def x(request):
            return {}

        return router

    test_api = SanxiangAPI(urls_namespace="dup_test")
    test_api.add_router("/a", router_with({"code": str}))
    test_api.add_router("/b", router_with({"id": int}))
    with pytest.raises(ConfigError, match="StepOut"):
        test_api.get_openapi_schema(path_prefix="/dup/")


def test_every_operation_documents_its_error_answers_with_the_error_schema(db):
    doc = Client().get("/api/v1/openapi.json").json()
    assert doc["components"]["schemas"]["Error"]["required"] == ["code", "field", "message"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            expected = {"400", "404", "422"} | ({"401", "403"} if op.get("security") else set())
            for status in expected:
                answer = op["responses"].get(status)
                assert answer, (method, path, status)
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("value", [BIG, JUST_OVER, "¹²"])
def test_a_page_form_with_an_officer_id_beyond_64_bits_answers_the_form_error(world, value):
    c = Client(raise_request_exception=False)
    c.force_login(world.u_changan)
    r = c.post("/workbench/cases/new/", {"title": "检查", "act_kind": "penalty", "procedure": "general",
                                         "party_name": "某公司", "party_type": "legal_person", "opened_on": "2026-03-02",
                                         "officers": [str(world.changan_officer.pk), value]})
    assert r.status_code == 400, r.status_code  # the form again, with its error
    assert "officers" in r.context["form"].errors


@pytest.mark.parametrize("value", ["¹²", "abc", BIG])
def test_an_id_posted_by_a_page_form_is_parsed_not_handed_to_the_database(world, value):
    head = core_services.create_user(actor="t", username="head_changan", password=world.password,
                                     role=Role.AGENCY_HEAD, agency=world.amr_changan)
    c = Client(raise_request_exception=False)
    c.force_login(head)
    r = c.post("/workbench/devices/", {"agency": value, "serial": "DSJ-1", "model": "X"})
    assert r.status_code == 400, r.status_code
    assert "agency" in r.content.decode()


@pytest.mark.parametrize("url", ["/api/v1/regions?parent=13%00", "/api/v1/publicity/search?q=a%00b",
                                 "/api/v1/certificates/ab%00c", "/officers/?q=%00", "/decisions/?q=x%00"])
def test_a_nul_in_a_path_or_query_string_is_400_on_every_database(db, url):
    r = Client(raise_request_exception=False).get(url)
    assert r.status_code == 400, (url, r.status_code)
    if url.startswith("/api/"):
        assert error_shape(r)["code"] == "invalid_character"


@pytest.mark.parametrize("text", ["\\u0000", "\\ud800"])
def test_a_json_string_with_nul_or_a_lone_surrogate_is_400_naming_the_field(world, token_client, text):
    body = ('{"title": "t%s", "act_kind": "penalty", "party_name": "某公司", "party_type": "legal_person", '
            '"officer_ids": [%d]}' % (text, world.changan_officer.pk))
    r = token_client.post("/api/v1/cases", body, content_type="application/json")
    assert r.status_code == 400, (r.status_code, r.content[:300])
    body = error_shape(r)
    assert body["code"] == "invalid_character" and body["field"] == "title"


# --- dates at the edge of the calendar ------------------------------------------------

def test_a_deadline_from_the_last_day_of_the_calendar_is_a_clear_refusal_not_overflow(db):
    rule = "publicity.licence_publication_limit"
    r = Client(raise_request_exception=False).get(f"/api/v1/deadlines?rule={rule}&start=9999-12-31")
    assert r.status_code == 422, (r.status_code, r.content[:200])
    assert error_shape(r)["field"] == "start"
    r = Client(raise_request_exception=False).get(f"/deadlines/?rule={rule}&start=9999-12-31")
    assert r.status_code == 400 and "超出" in r.content.decode()


def test_the_calendar_refuses_a_period_beyond_year_9999_with_a_value_error():
    from datetime import date

    from sanxiang.core.calendar import add_period

    with pytest.raises(ValueError, match="超出"):
        add_period(start=date(9999, 12, 31), amount=15, unit="working_days")


@pytest.mark.parametrize("url,body,field", [
    ("/api/v1/cases/{case}/hearing-request", {"requested_on": "9999-12-31"}, "requested_on"),
    ("/api/v1/cases/{case}/terminate", {"reason": "x", "on": "0001-01-01"}, "on"),
    ("/api/v1/cases", {"title": "t", "act_kind": "penalty", "party_name": "某公司", "party_type": "legal_person",
                       "opened_on": "9999-12-31", "officer_ids": [1]}, "opened_on"),
    ("/api/v1/review/discussions/1", {"held_at": "9999-12-31T23:59:59+08:00", "chair": "a", "participants": [],
                                      "recorder": "b", "minutes": "c", "resolution": "d", "resolution_text": "e"},
     "held_at"),
])
def test_dates_outside_1900_2199_in_api_bodies_are_422_naming_the_field(world, token_client, url, body, field):
    from sanxiang.cases import services as case_services

    case = case_services.open_case(actor=world.u_changan, agency=world.amr_changan, title="案", act_kind="penalty",
                                   procedure="general", party_name="某公司", party_type="legal_person",
                                   officers=[world.changan_officer, world.changan_officer2])
    r = token_client.post(url.format(case=case.pk), json.dumps(body), content_type="application/json")
    assert r.status_code == 422, (r.status_code, r.content[:300])
    assert error_shape(r)["field"] == field


def test_tus_metadata_with_a_control_character_is_400(world, token_client):
    import base64

    def b64(s):
        return base64.b64encode(s.encode()).decode()

    meta = f"case {b64('1')},sha256 {b64('0' * 64)},filename {b64('clip' + chr(0) + '.mp4')}"
    r = token_client.post("/api/v1/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="10",
                          HTTP_UPLOAD_METADATA=meta)
    assert r.status_code == 400, (r.status_code, r.content[:200])
    body = error_shape(r)
    assert body["field"] == "Upload-Metadata" and "control" in body["message"]


def test_a_nul_in_a_form_field_a_view_reads_raw_is_400(world):
    head = core_services.create_user(actor="t", username="head_changan", password=world.password,
                                     role=Role.AGENCY_HEAD, agency=world.amr_changan)
    c = Client(raise_request_exception=False)
    c.force_login(head)
    r = c.post("/workbench/devices/", {"agency": str(world.amr_changan.pk), "serial": "DSJ\x00-1", "model": "X"})
    assert r.status_code == 400, r.status_code
    assert "serial" in r.content.decode()
