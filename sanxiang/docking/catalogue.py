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

from . import agency_objects

OBJECT_TYPE = "catalogue_version"
SCHEMA_VERSION = 1
EVENT = "catalogue_version.accepted"


# The owning app's listener (its registry calls it in the change's
# transaction) and the type's receiving side (agency_objects.py).
on_version_accepted = agency_objects.change_listener(
    event=EVENT, object_type_name=OBJECT_TYPE, travelling_form=docked.travelling_form, key_of=docked.key_of)
CATALOGUE_VERSIONS = agency_objects.object_type(
    name=OBJECT_TYPE, schema_version=SCHEMA_VERSION, receive=docked.receive_accepted_version, local_id="version_id")
