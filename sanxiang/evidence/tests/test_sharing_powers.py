"""Each role holds only its own evidence powers (issue 9, section 6).

Adding evidence: only the case's officers (承办人员), the agency head and the
agency's own upload system (token with evidence:upload) — by the page's
upload (tus with a session), by tus with a token, and by the service. Legal
offices, the publicity administrator, legal reviewers and officers not on
the case are refused with a code, not just hidden.

Sharing: a share link is a random token stored server-side (as its SHA-256),
revocable and expiring, every use audited; it works only once the agency
head approved it, unless the asker's role is named in the dated rule
``evidence.share_without_approval_roles``. A link signed with the key the
demo once published is worth nothing.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
import yaml
from django.core import signing
from django.test import Client

from sanxiang.conftest import client_for, make_user
from sanxiang.core import services as core_services
from sanxiang.core.audit import verify_chain
from sanxiang.core.models import AuditEntry, Role
from sanxiang.core.refusals import Refused
from sanxiang.core.validators import make_certificate_number
from sanxiang.evidence import predicates, selectors, services
from sanxiang.evidence.models import EvidenceItem, EvidenceShare, Upload
from sanxiang.rules.loader import DEFAULT_PARAMS_DIR, read_yaml, reload_rules
from sanxiang.settings import DEFAULT_SECRET_KEY

from .conftest import jpeg_bytes, metadata_header, sha256_hex

pytestmark = pytest.mark.django_db
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


@pytest.fixture
def people(cases, settings):
    """Everyone around the case of 长安区市场监督管理局 (its officer 王建国 is on it)."""
    settings.REQUIRE_TOTP = False  # legal-office accounts log in without their authenticator here
    w = cases
    for attr, role in (("head", Role.AGENCY_HEAD), ("publicity", Role.PUBLICITY_ADMIN),
                       ("reviewer", Role.LEGAL_REVIEWER), ("bystander", Role.OFFICER)):
        setattr(w, attr, make_user(f"changan_{attr}", role, agency=w.amr_changan))
    core_services.create_officer(actor="t", name="陈立军", agency=w.amr_changan, user=w.bystander,
                                 certificate_number=make_certificate_number("130102", 7), categories=["penalty"],
                                 enforcement_region=w.changan, valid_from=date(2024, 1, 1), valid_to=date(2029, 12, 31))
    w.not_allowed = {"legal_supervisor": w.u_legal_sjz, "publicity_admin": w.publicity,
                     "legal_reviewer": w.reviewer, "officer_not_on_case": w.bystander}
    return w


session = client_for


def tus_create(client, w, data: bytes, **headers):
    return client.post("/api/v1/uploads/", HTTP_UPLOAD_LENGTH=str(len(data)), **TUS, **headers,
                       HTTP_UPLOAD_METADATA=metadata_header(case=w.case.pk, step=w.step.pk, sha256=sha256_hex(data),
                                                            filename="现场.jpg"))


def tus_upload(client, w, data: bytes, **headers) -> EvidenceItem:
    r = tus_create(client, w, data, **headers)
    assert r.status_code == 201, r.content
    r = client.generic("PATCH", r["Location"], data, content_type="application/offset+octet-stream",
                       HTTP_UPLOAD_OFFSET="0", **TUS, **headers)
    assert r.status_code == 204, r.content
    return EvidenceItem.objects.get(pk=r["Sanxiang-Evidence-Id"])


def actions(after=0) -> list[str]:
    return list(AuditEntry.objects.filter(seq__gt=after).order_by("seq").values_list("action", flat=True))


def last_seq() -> int:
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


# --- adding evidence --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["legal_supervisor", "publicity_admin", "legal_reviewer", "officer_not_on_case"])
def test_only_the_cases_officers_and_head_add_evidence_through_the_page_upload(people, who):
    w = people
    user = w.not_allowed[who]
    page = session(user).get(f"/workbench/cases/{w.case.pk}/steps/{w.step.pk}/evidence/")
    assert page.status_code == 200 and b"tus-upload" not in page.content  # no upload form offered
    r = tus_create(session(user), w, jpeg_bytes(1000))
    assert r.status_code == 403, (who, r.content)
    body = r.json()
    assert body["code"] in {"not_case_agency", "role_cannot_add_evidence", "not_case_officer"}
    assert "行政处罚法" in body["message"] and body["field"] == "case"
    assert not Upload.objects.exists() and not EvidenceItem.objects.exists()


def test_the_cases_officer_and_the_head_add_evidence_by_page_upload(people):
    w = people
    for user in (w.u_changan, w.head):
        page = session(user).get(f"/workbench/cases/{w.case.pk}/steps/{w.step.pk}/evidence/")
        assert b"tus-upload" in page.content
        item = tus_upload(session(user), w, jpeg_bytes(1500, seed=user.pk))
        assert item.uploaded_by == user


def test_the_upload_service_refuses_whoever_may_not_add_evidence(people):
    w = people
    data = jpeg_bytes(800)
    meta = {"case": str(w.case.pk), "sha256": sha256_hex(data)}
    for who, user in w.not_allowed.items():
        with pytest.raises(Refused) as refused:
            services.create_upload(actor=user, cases=selectors.cases_for(user=user), length=len(data), metadata=meta)
        assert refused.value.code in {"not_case_agency", "role_cannot_add_evidence", "not_case_officer"}, who
    upload = services.create_upload(actor=w.u_changan, cases=selectors.cases_for(user=w.u_changan), length=len(data),
                                    metadata=meta)
    assert upload.case == w.case


def test_an_officer_taken_off_the_case_mid_upload_adds_nothing_more(people):
    w = people
    data = jpeg_bytes(5000)
    c = session(w.u_changan)
    r = tus_create(c, w, data)
    assert r.status_code == 201
    w.case.assignments.filter(officer=w.changan_officer).delete()
    r = c.generic("PATCH", r["Location"], data, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET="0", **TUS)
    assert r.status_code == 403 and r.json()["code"] == "not_case_officer"
    assert not EvidenceItem.objects.exists()


def test_an_agency_upload_token_still_adds_evidence_to_its_agencys_cases(people):
    w = people
    item = tus_upload(Client(), w, jpeg_bytes(1200), HTTP_AUTHORIZATION=f"Bearer {w.token}")
    assert item.case == w.case


def test_the_predicate_answers_with_a_verdict_naming_the_article(people):
    w = people
    assert predicates.can_add_evidence(w.u_changan, w.case)
    verdict = predicates.can_add_evidence(w.u_legal_sjz, w.case)
    assert not verdict and verdict.code == "not_case_agency" and "第四十二条" in verdict.reason


# --- sharing ----------------------------------------------------------------------------


@pytest.fixture
def item(people):
    return tus_upload(Client(), people, jpeg_bytes(3000), HTTP_AUTHORIZATION=f"Bearer {people.token}")


def share_by_page(user, item, **form):
    data = {"recipient": "石家庄市人民政府行政复议办公室", "reason": "行政复议调取证据", "days": "3", **form}
    return session(user).post(f"/workbench/evidence/{item.pk}/share/", data, follow=True)


def link_path(response) -> str:
    text = response.content.decode()
    start = text.index("/evidence/shared/")
    return text[start:text.index("/", start + len("/evidence/shared/")) + 1]


@pytest.mark.parametrize("who", ["legal_supervisor", "publicity_admin", "legal_reviewer", "officer_not_on_case"])
def test_roles_outside_the_case_cannot_share_by_page_or_api(people, item, who):
    w = people
    user = w.not_allowed[who]
    detail = session(user).get(f"/workbench/evidence/{item.pk}/")
    assert detail.status_code == 200 and "生成链接" not in detail.content.decode()
    r = share_by_page(user, item)
    assert "只有本案承办人员或本部门负责人可以对外提供" in r.content.decode()
    r = session(user).post(f"/api/v1/evidence/items/{item.pk}/share", {"recipient": "某律师", "reason": "查阅", "days": 3},
                           content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "cannot_share_evidence", r.content
    with pytest.raises(Refused):
        services.share_evidence(actor=user, item=item, recipient="某律师", reason="查阅", days=3)
    assert not EvidenceShare.objects.exists()


def test_an_officers_share_works_only_after_the_heads_approval(people, item):
    w = people
    r = share_by_page(w.u_changan, item)
    assert "经本部门负责人批准后生效" in r.content.decode()
    path = link_path(r)
    share = EvidenceShare.objects.get()
    assert share.state == "pending" and share.expires_at is None
    before = last_seq()
    assert Client().get(path).status_code == 404
    assert actions(before) == ["evidence.shared_refused"]
    # the officer cannot approve their own share, nor can another role
    for user in (w.u_changan, w.publicity, w.u_legal_sjz):
        with pytest.raises(Refused) as refused:
            services.approve_share(actor=user, share=share)
        assert refused.value.code == "share_approval_head_only"
    r = session(w.u_changan).post(f"/api/v1/evidence/items/{item.pk}/shares/{share.pk}/approve")
    assert r.status_code == 403 and r.json()["code"] == "share_approval_head_only"
    # the head approves (by the page), the link works from then, for its days
    r = session(w.head).post(f"/workbench/evidence/{item.pk}/approve-share/", {"share": share.pk}, follow=True)
    assert "已批准" in r.content.decode()
    share.refresh_from_db()
    assert share.state == "active" and share.approved_by == w.head
    assert share.expires_at - share.approved_at == timedelta(days=3)
    r = Client().get(path)
    assert r.status_code == 200 and b"".join(r.streaming_content) == item_bytes(item)
    share.refresh_from_db()
    assert share.uses == 1
    entry = AuditEntry.objects.filter(action="evidence.download").last()
    assert entry.actor == f"share:{share.pk}:{share.recipient}"
    assert {"evidence.share", "evidence.share_approve", "evidence.download"} <= set(actions())
    assert verify_chain().ok


def item_bytes(item) -> bytes:
    from sanxiang.evidence.storage import get_storage

    with get_storage().open(item.sha256) as fh:
        return fh.read()


def test_the_heads_share_works_at_once_and_is_revocable_by_api(people, item):
    w = people
    head = session(w.head)
    r = head.post(f"/api/v1/evidence/items/{item.pk}/share", {"recipient": "石家庄市中级人民法院", "reason": "诉讼举证", "days": 5},
                  content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "active" and body["expires_at"]
    path = body["url"].split("testserver", 1)[1]
    assert Client().get(path).status_code == 200
    # the officer who did not ask for it may not revoke it; the head may
    r = session(w.u_changan).post(f"/api/v1/evidence/items/{item.pk}/shares/{body['id']}/revoke", {"reason": "误发"},
                                  content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "share_revoke_forbidden"
    r = head.post(f"/api/v1/evidence/items/{item.pk}/shares/{body['id']}/revoke", {"reason": "接收方有误"},
                  content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    before = last_seq()
    assert Client().get(path).status_code == 404
    assert actions(before) == ["evidence.shared_refused"]
    assert AuditEntry.objects.filter(action="evidence.share_revoke").count() == 1


def test_an_expired_link_stops_working(people, item):
    w = people
    share, token = services.share_evidence(actor=w.head, item=item, recipient="某复议机关", reason="复议", days=1)
    assert Client().get(f"/evidence/shared/{token}/").status_code == 200
    EvidenceShare.objects.filter(pk=share.pk).update(expires_at=share.approved_at - timedelta(seconds=1))
    assert Client().get(f"/evidence/shared/{token}/").status_code == 404
    assert '"problem":"expired"' in AuditEntry.objects.filter(action="evidence.shared_refused").last().payload.replace(" ", "")


def test_a_share_may_not_outlive_the_platforms_longest_validity(people, item, settings):
    w = people
    with pytest.raises(Exception) as too_long:
        services.share_evidence(actor=w.head, item=item, recipient="某机关", reason="调取", days=settings.EVIDENCE_SHARE_MAX_DAYS + 1)
    assert "有效期" in str(too_long.value)


def test_links_signed_with_the_published_default_key_or_guessed_are_worthless(people, item, settings):
    """The old links were signing.dumps({"share": id}) with SECRET_KEY, and
    the demo's key was in the source: anyone could mint one for any id."""
    w = people
    share, token = services.share_evidence(actor=w.head, item=item, recipient="某机关", reason="调取", days=3)
    settings.SECRET_KEY = DEFAULT_SECRET_KEY
    forged = signing.dumps({"share": share.pk}, salt="sanxiang.evidence.share", key=DEFAULT_SECRET_KEY)
    before = last_seq()
    for bogus in (forged, token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 43, "forged-token"):
        assert Client().get(f"/evidence/shared/{bogus}/").status_code == 404, bogus
    assert actions(before) == []  # unknown tokens write nothing to the chain
    # the stored row holds only the token's hash
    share.refresh_from_db()
    assert token not in (share.token_hash or "") and len(share.token_hash) == 64
    assert Client().get(f"/evidence/shared/{token}/").status_code == 200


def test_who_shares_without_approval_is_a_dated_rule(people, item, tmp_path):
    """A province may let the case's officers share without approval from a
    date: then the officer's link works at once."""
    w = people
    params = tmp_path / "params"
    shutil.copytree(DEFAULT_PARAMS_DIR, params)
    data = read_yaml(params / "evidence.yaml")
    rule = next(p for p in data if p["name"] == "evidence.share_without_approval_roles")
    rule["values"].append({"value": ["agency_head", "officer"], "valid_from": date(2026, 1, 1),
                           "scope": "region:130000", "reference": "测试用的省级规定"})
    (params / "evidence.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        reload_rules(params)
        assert not predicates.share_needs_approval(w.u_changan, item, on=date(2026, 6, 1))
        assert predicates.share_needs_approval(w.u_changan, item, on=date(2025, 12, 31))
        share, _ = services.share_evidence(actor=w.u_changan, item=item, recipient="某机关", reason="调取", days=3)
        assert share.state == "active"
    finally:
        reload_rules()
    assert predicates.share_needs_approval(w.u_changan, item)


def test_every_role_named_by_the_rules_exists():
    from sanxiang.rules.loader import all_rules

    roles = set(Role.values)
    for rule in all_rules():
        if rule.unit == "roles":
            for value in rule.values:
                assert set(value.value) <= roles, (rule.name, value.value)
