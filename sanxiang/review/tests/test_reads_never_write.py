"""Reads never write (issue 9). Opening a page or calling a GET endpoint of
the review and cases apps changes no table; the only writes a read may
make are the session, the lockout and security logs, and audit entries of
kind ``*.view`` naming the reader (personal data read, like evidence.view).

Found: opening the review page appended ``review.evaluate`` entries with no
actor. The catalogue evaluation is now pure for reads (``services.evaluate``)
and recorded only by the writes that change its inputs
(``services.record_evaluation``, with the acting user).

Every route of the two apps is requested with GET (POST-only routes must
answer 405 without writing), and every GET operation of their API, as
several roles, with a statement hook on the database connection that
records any INSERT / UPDATE / DELETE."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import URLPattern, reverse

from sanxiang.api_root import api
from sanxiang.api.services import create_token
from sanxiang.cases import services as case_services
from sanxiang.cases import urls as cases_urls
from sanxiang.cases.models import AvExemption
from sanxiang.core.models import AuditEntry
from sanxiang.review import services
from sanxiang.review import urls as review_urls

from .conftest import PARTS

WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?', re.I)
# What a read may write: the session, lockout bookkeeping, the security log
# of refused attempts, and the audit chain (checked entry by entry below).
ALLOWED_TABLES = {"django_session", "core_securityevent", "core_auditentry", "core_auditcheckpoint",
                  "core_auditcheckpointsignature"}
ALLOWED_PREFIXES = ("axes_",)
# Authentication bookkeeping: when a token was last used (like a session's expiry).
ALLOWED_STATEMENTS = (re.compile(r'^UPDATE "api_apitoken" SET "last_used_at" = %s WHERE "api_apitoken"\."id" = %s$'),)


class WriteRecorder:
    def __init__(self):
        self.writes: list[tuple[str, str]] = []

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match and not any(p.match(sql.strip()) for p in ALLOWED_STATEMENTS):
            self.writes.append((match.group(1).lower(), sql[:200]))
        return execute(sql, params, many, context)

    def forbidden(self):
        return [(t, sql) for t, sql in self.writes if t not in ALLOWED_TABLES and not t.startswith(ALLOWED_PREFIXES)]


def _row_counts() -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        table = model._meta.db_table
        if table in ALLOWED_TABLES or table.startswith(ALLOWED_PREFIXES) or model._meta.proxy:
            continue
        counts[table] = model._default_manager.count()
    return counts


@pytest.fixture
def review_world(rw, make_case, file_catalogue):
    """A case that needs review with a round assigned, a consultation, an
    extension asked for, a discussion requested; then a new catalogue
    version is filed, so the evaluation stored by the last case write is
    stale (a read that records would record)."""
    case = make_case(fine_yuan=120000)
    file_catalogue()
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    consultation = services.request_consultation(actor=rw.u_reviewer, submission=submission, counsel_name="张律师",
                                                 counsel_kind="counsel", question="本案裁量是否适当？")
    extension = services.request_extension(actor=rw.u_reviewer, submission=submission, reason="案情复杂，需要补充材料")
    discussion = services.request_discussion(actor=rw.u_changan, case=case)
    other = make_case(fine_yuan=50000, title="另一起案件")
    version = file_catalogue(all_non_summary=True, effective=date(2026, 2, 1))  # changes the evaluation of both cases
    # evidence preserved (先行登记保存, art. 56): the cases app's page of one preservation
    preservation = case_services.record_preservation(actor=rw.u_changan, case=case, preserved_on=date(2026, 9, 1),
                                                     items="过期食品10箱")
    step = case.steps.order_by("id").first()
    return {"preservation_id": preservation.pk, "pk": case.pk, "sid": submission.pk, "cid": consultation.pk, "eid": extension.pk, "did": discussion.pk,
            "vid": version.pk, "step_id": step.pk, "officer_id": rw.changan_officer.pk, "code": "decision",
            "action": "submit", "case_id": case.pk, "submission_id": submission.pk, "version_id": version.pk,
            "discussion_id": discussion.pk, "extension_id": extension.pk, "consultation_id": consultation.pk,
            "reviewer_id": rw.reviewer.pk, "exemption_id": (AvExemption.objects.filter(step__case=case).first() or step).pk,
            "other": other}


def _page_urls(ids: dict) -> list[str]:
    urls = []
    for namespace, module in (("review", review_urls), ("cases", cases_urls)):
        for pattern in module.urlpatterns:
            if not isinstance(pattern, URLPattern):
                continue
            kwargs = {name: ids[name] for name in pattern.pattern.converters if name not in pattern.default_args}
            urls.append(reverse(f"{namespace}:{pattern.name}", kwargs=kwargs))
    return urls


def _api_urls(ids: dict) -> list[str]:
    urls = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        if "get" not in operations or not path.startswith(("/api/v1/review", "/api/v1/cases")):
            continue
        urls.append(re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), ids["pk"])), path))
    return urls


def test_every_review_and_case_page_and_api_read_writes_nothing_but_view_entries(rw, review_world, settings):
    ids = review_world
    pages, endpoints = _page_urls(ids), _api_urls(ids)
    assert len(pages) >= 30 and len(endpoints) >= 3
    _, token = create_token(actor="t", agency=rw.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    readers = {}
    for name in ("u_changan", "head", "u_reviewer", "u_legal_sjz", "u_admin", "u_zhengding"):
        client = Client()
        client.force_login(getattr(rw, name))
        readers[name] = client
    readers["token"] = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    readers["anonymous"] = Client()
    names = {getattr(rw, n).username for n in readers if hasattr(rw, n)} | {"长安办案系统"}
    from sanxiang.api.models import ApiToken
    names |= {t.user.username for t in ApiToken.objects.select_related("user")}

    counts, audit_before = _row_counts(), AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    recorder = WriteRecorder()
    answered = {}
    with connection.execute_wrapper(recorder):
        for reader, client in readers.items():
            for url in (pages if reader != "token" else []) + endpoints:
                response = client.get(url)
                assert response.status_code < 500, (reader, url, response.status_code)
                answered[(reader, url)] = response.status_code

    assert recorder.forbidden() == [], recorder.forbidden()[:5]
    assert _row_counts() == counts
    entries = list(AuditEntry.objects.filter(seq__gt=audit_before or 0))
    assert entries, "reading a case's personal data is recorded (case.view / review.view)"
    for entry in entries:
        assert entry.action.endswith(".view") and entry.actor in names, (entry.action, entry.actor)
    assert not any(e.action == "review.evaluate" for e in entries)
    # the crawl read real pages, not only refusals
    ok = [k for k, status in answered.items() if status == 200]
    assert (("u_changan", f"/review/case/{ids['pk']}/") in ok and ("u_changan", f"/workbench/cases/{ids['pk']}/") in ok
            and ("token", f"/api/v1/review/cases/{ids['pk']}") in ok)
    assert answered[("u_zhengding", f"/review/case/{ids['pk']}/")] == 404


def test_the_review_page_shows_the_evaluation_as_it_stands_without_recording_it(rw, make_case, file_catalogue):
    case = make_case(fine_yuan=120000)  # no catalogue yet: the platform's default threshold applies
    file_catalogue()  # now the filed catalogue's rule matches, and nothing recorded it on the case
    client = Client()
    client.force_login(rw.u_changan)
    token = create_token(actor="t", agency=rw.amr_changan, name="长安办案系统", scopes=["read"])[1]
    before = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    page = client.get(f"/review/case/{case.pk}/").content.decode()
    assert "较大数额罚款" in page
    api_answer = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/v1/review/cases/{case.pk}").json()
    assert api_answer["required"] and "较大数额罚款" in api_answer["matches"][0]["citation"]
    actions = list(AuditEntry.objects.filter(seq__gt=before).values_list("action", flat=True))
    assert actions == ["review.view", "review.view"]


def test_the_evaluation_is_recorded_by_the_writes_that_change_it_with_the_acting_user(rw, make_case):
    case = make_case()
    from sanxiang.cases import services as case_services

    before = AuditEntry.objects.count()
    case_services.propose_decision(actor=rw.u_changan, case=case, categories=["罚款"], fine_fen=120000 * 100)
    entry = AuditEntry.objects.get(seq__gt=before, action="review.evaluate")
    assert entry.actor == rw.u_changan.username and entry.object_id == str(case.pk)
    assert case.legal_review.required
    with pytest.raises(PermissionDenied):
        services.record_evaluation(actor=None, case=case)
