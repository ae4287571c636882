"""Push API of enforcement decisions (seed 公示-14: case systems push every
decision to the publicity platform as it is made; 公示-19: the same data
feeds the 双公示 exchange). Mounted by the integrator at
/api/v1/publicity.

POST /decisions   {"records": [record, ...]}   at most 1,000 records
    Auth: an agency's API token with scope ``publicity:push`` (the records
    belong to the token's agency), or a logged-in publicity administrator or
    agency head (their own agency). Every record is validated
    (intake.validate_record); all valid ones are stored by ONE
    ``receive_records(..., source="api")`` call, so one bad record never
    blocks or half-writes the others (a record the database refuses fails
    alone). 200 with, in input order, {"index", "external_id", "status":
    created|corrected|unchanged|rejected, "version", "decision_id",
    "publication_due", "provisional", "errors": [...], "normalised":
    {field: [change, ...]}}. ``unchanged``: the same external_id with the
    same content as its current version, no new version (retries are
    harmless). Texts are normalised at intake (sanxiang.core.text): NFC,
    invisible characters removed from names and numbers, ASCII digits in ID
    numbers and codes; control characters and lone surrogates are refused
    per field.
    Money is sent in yuan: ``fine_yuan`` / ``confiscation_yuan`` as a decimal
    string ("12000.50") or a JSON number; JSON numbers are read as exact
    decimals (never binary floats); at most 2 decimals.
GET /decisions/{external_id}
    The pushing agency's own record: status, version, due date. Another
    agency's record is "not found" (its existence is not revealed).
POST /decision-changes   {"external_id", "via", "outcome", "reason", "changed_on"?, "content"?}
    The decision changed after it was made (复议 ``reconsideration``, 诉讼
    ``litigation``, 撤销 by the agency ``agency``; issue 11 item 1):
    ``services.record_decision_change`` corrects it (outcome ``changed``
    with the new ``content``) or withdraws it with the reason. The caller's
    own agency; a case-derived record is addressed by its ``case-<id>``.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from ninja import Router, Schema

from sanxiang.api import signing
from sanxiang.api.api import AUTH
from sanxiang.api.errors import ApiError, forbidden_scope
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS, ActKind, PartyType
from sanxiang.core.parsing import BadNumber, Day, load_json, parse_int

from .intake import safe_external_id, validate_records
from .selectors import decisions_for

router = Router(tags=["publicity"])

MAX_RECORDS = 1000
MAX_BODY_BYTES = 64 * 1024 * 1024  # 1,000 long records fit easily; more is a mistake
PUSH_SCOPE = "publicity:push"
PUSH_ENDPOINT = "publicity.decisions"
PUSH_ROLES = PUBLICITY_MANAGERS

_RECORD_SCHEMA = {
    "type": "object",
    "required": ["external_id", "kind", "doc_number", "party_name", "party_type", "decision_date", "content"],
    "properties": {
        "external_id": {"type": "string", "maxLength": 64, "description": "the case system's id; same id again = a correction"},
        "kind": {"type": "string", "enum": list(ActKind.values)},
        "doc_number": {"type": "string", "description": "文号"},
        "party_name": {"type": "string"},
        "party_type": {"type": "string", "enum": list(PartyType.values)},
        "party_credit_code": {"type": "string", "description": "统一社会信用代码 (GB 32100)"},
        "party_other_codes": {"type": "string"},
        "legal_representative": {"type": "string"},
        "party_id_type": {"type": "string", "description": "身份证 (default for natural persons), 护照号 ..."},
        "party_id_number": {"type": "string", "description": "natural persons: GB 11643 checked; never published"},
        "decision_date": {"type": "string", "format": "date"},
        "basis": {"type": "string"}, "facts": {"type": "string"}, "content": {"type": "string"},
        "remark": {"type": "string"}, "data_source": {"type": "string"}, "data_source_code": {"type": "string"},
        "is_minor": {"type": "boolean"}, "confidential": {"type": "boolean"},
        "other_person_names": {"type": "array", "items": {"type": "string"}},
        "correction_reason": {"type": "string"},
        "violation_type": {"type": "string"},
        "penalty_categories": {"type": "array", "items": {"type": "string"}},
        "fine_yuan": {"type": ["string", "number"], "description": "yuan, at most 2 decimals, e.g. \"12000.50\""},
        "confiscation_yuan": {"type": ["string", "number"]},
        "licence_affected": {"type": "string"}, "valid_until": {"type": "string", "format": "date"},
        "licence_doc_name": {"type": "string"}, "licence_category": {"type": "string"},
        "licence_cert_name": {"type": "string"}, "licence_number": {"type": "string"},
        "valid_from": {"type": "string", "format": "date"}, "licence_status": {"type": "string", "enum": ["有效", "无效"]},
    },
}
_PUSH_OPENAPI = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["records"],
    "properties": {"records": {"type": "array", "maxItems": MAX_RECORDS, "items": _RECORD_SCHEMA}},
}}}}, "responses": {"413": {
    "description": f"More than {MAX_RECORDS} records, or a body over {MAX_BODY_BYTES // 1048576} MB",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}


def _agency_of(request, *, for_read: bool = False):
    """The agency the caller acts for: a token's agency (with the scope), or
    the logged-in publicity administrator's or agency head's agency."""
    token = getattr(request, "api_token", None)
    if token is not None:
        if PUSH_SCOPE not in token.scopes and not (for_read and "read" in token.scopes):
            raise forbidden_scope(PUSH_SCOPE)
        return token.agency
    user = request.user
    if user.role in PUSH_ROLES and user.agency_id:
        return user.agency
    raise ApiError(status=403, code="forbidden_role",
                   message="只有本部门的公示管理员、部门负责人或具有 publicity:push 权限的 API 令牌可以推送执法决定。")


def _json(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                        content_type="application/json; charset=utf-8", status=status)


def _read_body(request) -> bytes:
    try:
        length = parse_int(request.META.get("CONTENT_LENGTH") or 0, field="Content-Length")
    except BadNumber:
        length = 0
    if length > MAX_BODY_BYTES:
        raise ApiError(status=413, code="body_too_large", field="records",
                       message=f"请求体过大（{length} 字节）：每批最多 {MAX_RECORDS} 条记录、{MAX_BODY_BYTES // 1048576} MB。")
    try:
        return request.body
    except RequestDataTooBig:
        # Django's general form-data limit; this endpoint sets its own above.
        return request.read()


@router.post("/decisions", auth=AUTH, openapi_extra=_PUSH_OPENAPI,
             summary="Push enforcement decisions (公示-14); a known external_id is a correction")
def push_decisions(request):
    agency = _agency_of(request)
    raw = _read_body(request)
    # A case system may sign its push (Standard Webhooks v1a with the key
    # registered on its token; api/signing.py): verified here, and the same
    # webhook-id again is given the first answer with no second effect.
    signed = signing.verify_push(request, raw, endpoint=PUSH_ENDPOINT)
    if signed is not None and signed.previous is not None:
        answer, status = signing.replay(signed.previous)
        return _json(answer, status)
    try:
        response, answer, records, dates = _push(request, agency, raw)
    except Exception:
        signing.forget(signed)  # refused before anything was stored: the same id may come again
        raise
    signing.answered(request, signed, endpoint=PUSH_ENDPOINT, records=records, answer=answer, decision_dates=dates)
    return response


def _push(request, agency, raw: bytes):
    # core.parsing.load_json: 400 invalid_json / json_too_deep (BadJson), never RecursionError;
    # NUL and lone surrogates are refused per record and field by intake, so a
    # bad record never takes the good ones of its batch down.
    body = load_json(raw or b"null", check_text=False, parse_float=Decimal)
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise ApiError(status=422, code="records_missing", field="records",
                       message="请求体应为 {\"records\": [...]}，records 为记录数组。")
    if len(records) > MAX_RECORDS:
        raise ApiError(status=413, code="batch_too_large", field="records",
                       message=f"每批最多 {MAX_RECORDS} 条记录，本批 {len(records)} 条；请分批推送。")
    good, errors = validate_records(records)
    results: list[dict | None] = [None] * len(records)
    by_index: dict[int, list] = {}
    for e in errors:
        by_index.setdefault(e.index, []).append(e.as_dict())
    for index, errs in by_index.items():
        results[index] = {"index": index, "external_id": safe_external_id(records[index]), "status": "rejected",
                          "version": None, "decision_id": None, "publication_due": None, "provisional": False,
                          "errors": errs, "normalised": {}}
    if good:
        from .services import receive_records

        stored = receive_records(actor=request.user, agency=agency, records=[r for _, r in good], source="api")
        for (index, record), r in zip(good, stored):
            results[index] = {
                "index": index, "external_id": r.external_id, "status": r.outcome,
                "version": r.version, "decision_id": r.decision_id,
                "publication_due": r.publication_due.isoformat() if r.publication_due else None,
                "provisional": r.publication_due_provisional, "errors": r.errors,
                "normalised": getattr(record, "normalised", {}),
            }
    rejected = sum(1 for r in results if r["status"] == "rejected")
    answer = {"accepted": len(records) - rejected, "rejected": rejected, "results": results}
    dates = [date.fromisoformat(r["decision_date"]) for _, r in good if r.get("decision_date")]
    return _json(answer), answer, len(records), dates


@router.get("/decisions/{path:external_id}", auth=AUTH, summary="Status of one of the caller's pushed decisions")
def get_decision(request, external_id: str):
    agency = _agency_of(request, for_read=True)
    d = decisions_for(user=request.user).filter(agency=agency, external_id=external_id).first()
    if d is None:
        raise ApiError(status=404, code="not_found", field="external_id", message="未找到该外部编号的决定，或不在您的权限范围内。")
    return _json({
        "external_id": d.external_id, "decision_id": d.pk, "kind": d.kind, "doc_number": d.doc_number,
        "status": d.status, "version": d.version, "decision_date": d.decision_date.isoformat(),
        "publication_due": d.publication_due.isoformat() if d.publication_due else None,
        "provisional": d.publication_due_provisional, "publication_rule": d.publication_rule,
        "not_public_reason": d.not_public_reason,
        "published_at": d.published_at.isoformat() if d.published_at else None,
        "publicity_end": d.publicity_end.isoformat() if d.publicity_end else None,
        # withdrawal (penalty law art. 48: 3 working days from the change)
        "withdrawn_at": d.withdrawn_at.isoformat() if d.withdrawn_at else None,
        "withdrawal_due": d.withdrawal_due.isoformat() if d.withdrawal_due else None,
        "withdrawal_on_time": d.withdrawal.on_time if hasattr(d, "withdrawal") else None,
    })


class DecisionChangeIn(Schema):
    external_id: str
    via: str
    outcome: str
    reason: str
    changed_on: Day | None = None
    content: str = ""


@router.post("/decision-changes", auth=AUTH,
             summary="A decision changed after it was made (复议, 诉讼, 撤销): corrected or withdrawn with the reason")
def record_decision_change(request, payload: DecisionChangeIn):
    from .services import record_decision_change as record_change

    agency = _agency_of(request)
    d = decisions_for(user=request.user).filter(agency=agency, external_id=payload.external_id).first()
    if d is None:
        raise ApiError(status=404, code="not_found", field="external_id", message="未找到该外部编号的决定，或不在您的权限范围内。")
    d = record_change(actor=request.user, decision=d, via=payload.via, outcome=payload.outcome, reason=payload.reason,
                      changed_on=payload.changed_on, content=payload.content)
    return _json({"external_id": d.external_id, "decision_id": d.pk, "status": d.status, "version": d.version,
                  "withdrawal_due": d.withdrawal_due.isoformat() if d.withdrawal_due else None})
