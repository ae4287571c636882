"""Accepted catalogue versions travel upward (公示-17, 公示-18; issue 13
item 2): a version of 事项清单, 随机抽查事项清单, 服务指南 or 流程图 accepted
(备案) at a lower platform, with its public items, so the province's
public catalogue pages show the list in force for that agency.

Sending side: catalog calls ``on_version_accepted`` inside the transaction
of the acceptance (catalog.registry), which writes the outbox message.
Receiving side: ``apply`` stores it through catalog
(catalog.docked.receive_accepted_version) as accepted at its source, as the
instance (``instance:<code>``). Key: agency/kind/number — one object per
version; an accepted version never changes, so a second message for it is
applied when identical and refused (``version_frozen``) when not."""

from __future__ import annotations

from sanxiang.catalog import docked
from sanxiang.core.models import Agency

from . import services
from .registry import Applied, ObjectType, agency_scope, unknown_agency

OBJECT_TYPE = "catalogue_version"
SCHEMA_VERSION = 1
EVENT = "catalogue_version.accepted"


def on_version_accepted(version) -> None:
    """catalog.registry listener: one outbox message per accepted version of
    a public list (services.enqueue_change: the next version of its
    message); nothing while no upstream is set."""
    if services.upstream() is None:
        return
    form = docked.travelling_form(version)
    if form is not None:
        services.enqueue_change(event_type=EVENT, object_type_name=OBJECT_TYPE, key=docked.key_of(form), data=form)


scope = agency_scope


def apply(*, actor: str, instance, data: dict, event: str) -> Applied:
    agency = Agency.objects.filter(credit_code=scope(data).agency_code).first()
    if agency is None:
        return unknown_agency(data)
    received = docked.receive_accepted_version(actor=actor, agency=agency, form=data, source_name=instance.name)
    if received.outcome != "applied":
        return Applied("refused", received.code, received.message)
    return Applied("applied", local_id=str(received.version_id))


CATALOGUE_VERSIONS = ObjectType(name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, scope=scope, apply=apply)
