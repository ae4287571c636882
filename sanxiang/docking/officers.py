"""The public officer list travels upward (公示-18; issue 13 item 2): an
officer's certificate (执法证) and its status, so that 亮证 at the province
verifies a county's officer. Only what the public verification page shows
travels — name, agency, post, certificate number, categories, enforcement
region, validity, status — never the login account.

Sending side: core calls ``on_officer_changed`` inside the transaction of
the change (core.changes registry), which writes the outbox message.
Receiving side: ``apply`` creates or updates the officer through the core
services, as the instance (``instance:<code>``)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError

from sanxiang.core import services as core_services
from sanxiang.core.models import Agency, Officer, OfficerStatus, Region
from sanxiang.core.refusals import message_naming_fields

from . import predicates, services
from .models import ReceivedObject
from .registry import Applied, ObjectType, Scope

OBJECT_TYPE = "officer"
SCHEMA_VERSION = 1
EVENT = "officer.changed"


def public_officer(officer: Officer) -> dict:
    """The travelling form (docs/docking.md, schema ``officer`` v1)."""
    return {
        "schema": f"{OBJECT_TYPE}/{SCHEMA_VERSION}",
        "certificate_number": officer.certificate_number,
        "name": officer.name,
        "agency": officer.agency.credit_code,
        "post": officer.post,
        "categories": list(officer.categories),
        "enforcement_region": officer.enforcement_region.code,
        "valid_from": officer.valid_from.isoformat(),
        "valid_to": officer.valid_to.isoformat(),
        "status": officer.status,
    }


def on_officer_changed(officer: Officer) -> None:
    """core.changes listener: one outbox message per change (in the change's
    transaction: the officer's row was just written, so a concurrent change
    of the same officer waits for this one's commit and takes the next
    version; services.enqueue_change)."""
    if services.upstream() is None:
        return
    officer = Officer.objects.select_related("agency", "enforcement_region").get(pk=officer.pk)
    services.enqueue_change(event_type=EVENT, object_type_name=OBJECT_TYPE, key=officer.certificate_number,
                            data=public_officer(officer))


def scope(data: dict) -> Scope:
    return Scope(agency_code=str(data.get("agency") or "").strip().upper())


def _refused(code: str, message: str) -> Applied:
    return Applied("refused", code, message)


def _date(data: dict, name: str) -> date | None:
    try:
        return date.fromisoformat(str(data.get(name) or ""))
    except ValueError:
        return None


def apply(*, actor: str, instance, data: dict, event: str) -> Applied:
    number = str(data.get("certificate_number") or "").strip()
    if not number:
        return _refused("invalid", "certificate_number：缺少执法证号。")
    agency = Agency.objects.filter(credit_code=scope(data).agency_code).select_related("region").first()
    if agency is None:
        return _refused("unknown_agency", f"agency：本平台未登记统一社会信用代码为 {data.get('agency')} 的执法部门。")
    region = Region.objects.filter(code=str(data.get("enforcement_region") or "")).first()
    if region is None:
        return _refused("unknown_region", f"enforcement_region：本平台未登记行政区划 {data.get('enforcement_region')}。")
    valid_from, valid_to = _date(data, "valid_from"), _date(data, "valid_to")
    if valid_from is None or valid_to is None:
        return _refused("invalid", "valid_from / valid_to：须为 YYYY-MM-DD 格式的日期。")
    status = str(data.get("status") or "")
    if status not in OfficerStatus.values:
        return _refused("invalid", f"status：证件状态无效：{status[:32]}。")
    categories = data.get("categories")
    if not isinstance(categories, list):
        return _refused("invalid", "categories：须为执法类别代码的列表。")
    fields = dict(name=str(data.get("name") or "")[:64], agency=agency, post=str(data.get("post") or "")[:64],
                  categories=[str(c) for c in categories], enforcement_region=region,
                  valid_from=valid_from, valid_to=valid_to)
    existing = Officer.objects.select_related("agency__region").filter(certificate_number=number).first()
    reason = f"由下级平台“{instance.name}”同步"
    try:
        if existing is None:
            officer = core_services.create_officer(actor=actor, certificate_number=number, status=status, **fields)
        else:
            if not predicates.may_speak_for(instance, agency_code=existing.agency.credit_code):
                return _refused("certificate_taken",
                                f"certificate_number：执法证号 {number} 已属于本平台上“{existing.agency.name}”的执法人员，"
                                f"平台“{instance.code}”无权修改。")
            changed = {k: v for k, v in fields.items() if getattr(existing, k) != v}
            officer = core_services.update_officer(actor=actor, officer=existing, **changed) if changed else existing
            if officer.status != status:
                officer = core_services.set_officer_status(actor=actor, officer=officer, status=status, reason=reason)
    except ValidationError as exc:
        return _refused("invalid", message_naming_fields(exc))
    return Applied("applied", local_id=str(officer.pk))


def reported_by(officer: Officer) -> str:
    """core.changes provider for the 亮证 page: the name (on the trust list)
    of the lower platform whose message created or last changed this
    officer; "" for an officer registered here."""
    return (ReceivedObject.objects.filter(object_type=OBJECT_TYPE, object_key=officer.certificate_number)
            .order_by("-updated_at", "-pk").values_list("instance__name", flat=True).first() or "")


OFFICERS = ObjectType(name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, scope=scope, apply=apply)
