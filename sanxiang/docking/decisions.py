"""Published decisions travel upward (公示-17: one searchable platform;
公示-18, 公示-19; issue 13 item 2): the public copy when a decision is
published or corrected, and its withdrawal with the ground and reason.

Sending side: publicity calls ``on_public_changed`` inside the transaction
of the change (publicity.registry), which writes the outbox message.
Receiving side: ``apply`` stores, publishes, corrects or withdraws the
record through publicity (publicity.docked.receive_public_copy), as the
instance (``instance:<code>``); the province's portal and search show it
like a local record."""

from __future__ import annotations

from sanxiang.core.models import Agency
from sanxiang.publicity import docked

from . import services
from .registry import Applied, ObjectType, Scope

OBJECT_TYPE = "decision"
SCHEMA_VERSION = 1
EVENTS = {"published": "decision.published", "withdrawn": "decision.withdrawn"}


def key_of(agency_code: str, external_id: str) -> str:
    return f"{agency_code}/{external_id}"


def on_public_changed(decisions: list, event: str) -> None:
    """publicity.registry listener: one outbox message per decision whose
    public copy changed (services.enqueue_change: the next version of it);
    nothing — not even a query per decision — while no upstream is set."""
    if services.upstream() is None:
        return
    for decision in decisions:
        form = docked.travelling_form(decision)
        if form is not None:
            services.enqueue_change(event_type=EVENTS.get(event, "decision.published"), object_type_name=OBJECT_TYPE,
                                    key=key_of(form["agency"], form["external_id"]), data=form)


def scope(data: dict) -> Scope:
    return Scope(agency_code=str(data.get("agency") or "").strip().upper())


def apply(*, actor: str, instance, data: dict, event: str) -> Applied:
    agency = Agency.objects.filter(credit_code=scope(data).agency_code).select_related("region").first()
    if agency is None:
        return Applied("refused", "unknown_agency",
                       f"agency：本平台未登记统一社会信用代码为 {str(data.get('agency'))[:32]} 的执法部门。")
    received = docked.receive_public_copy(actor=actor, agency=agency, form=data, source_name=instance.name)
    if received.outcome != "applied":
        return Applied("refused", received.code, received.message)
    return Applied("applied", local_id=str(received.decision_id))


DECISIONS = ObjectType(name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, scope=scope, apply=apply)
