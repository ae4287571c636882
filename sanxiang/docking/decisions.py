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
from .registry import Applied, ObjectType, agency_scope, unknown_agency

OBJECT_TYPE = "decision"
SCHEMA_VERSION = 1
EVENTS = {"published": "decision.published", "withdrawn": "decision.withdrawn"}


def key_of(agency_code: str, external_id: str) -> str:
    return f"{agency_code}/{external_id}"


def on_public_changed(decisions: list, event: str) -> None:
    """publicity.registry listener: one outbox message per decision whose
    public copy changed (services.enqueue_changes: the next version of each,
    in a few statements for a batch); nothing — not even a query per
    decision — while no upstream is set."""
    if services.upstream() is None:
        return
    event_type = EVENTS.get(event, "decision.published")
    services.enqueue_changes(event_type=event_type, object_type_name=OBJECT_TYPE, changes=[
        (key_of(form["agency"], form["external_id"]), form) for form in docked.travelling_forms(decisions) if form])


scope = agency_scope


def apply(*, actor: str, instance, data: dict, event: str) -> Applied:
    [applied] = apply_many(actor=actor, instance=instance, items=[(data, event)])
    return applied


def apply_many(*, actor: str, instance, items: list[tuple[dict, str]]) -> list[Applied]:
    """A batch's decisions, each agency's together
    (docked.receive_public_copies: stored and published in a few statements
    for the lot)."""
    applied: list[Applied | None] = [None] * len(items)
    codes = {scope(data).agency_code for data, _event in items}
    agencies = {a.credit_code: a for a in Agency.objects.filter(credit_code__in=codes).select_related("region")}
    by_agency: dict[str, list[int]] = {}
    for n, (data, _event) in enumerate(items):
        code = scope(data).agency_code
        if code not in agencies:
            applied[n] = unknown_agency(data)
        else:
            by_agency.setdefault(code, []).append(n)
    for code, where in by_agency.items():
        received = docked.receive_public_copies(actor=actor, agency=agencies[code], forms=[items[n][0] for n in where],
                                                source_name=instance.name)
        for n, one in zip(where, received, strict=True):
            applied[n] = (Applied("applied", local_id=str(one.decision_id)) if one.outcome == "applied"
                          else Applied("refused", one.code, one.message))
    return applied


DECISIONS = ObjectType(name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, scope=scope, apply=apply, apply_many=apply_many)
