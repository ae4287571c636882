"""What travels between instances: one entry per object type (decisions,
catalogue versions, officer lists, statistics; docs/docking.md "Schemas").

Each type says, at the receiver, which agency or region a message speaks
for (``scope``: checked against the sending instance's trust-list entry
before anything is applied) and how to apply it (``apply``; for many at
once, ``apply_many``). Types are
registered by the module that knows the object (in the docking app, which
sits above the apps whose objects it carries), in DockingConfig.ready —
never by signals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Applied:
    """What applying a message did: ``outcome`` is "applied" or "refused";
    a refusal carries a stable ``code`` and a ``message`` naming the field."""

    outcome: str
    code: str = ""
    message: str = ""
    local_id: str = ""


@dataclass(frozen=True)
class Scope:
    agency_code: str = ""  # 统一社会信用代码 of the agency the object belongs to
    region_code: str = ""  # else the region it belongs to


@dataclass(frozen=True)
class ObjectType:
    name: str
    schema_version: int
    scope: Callable[[dict], Scope]
    apply: Callable[..., Applied]  # apply(*, actor, instance, data, event) -> Applied
    # Optional: apply many objects of the type at once (a batch; services.
    # _receive_batch): apply_many(*, actor, instance, items=[(data, event)])
    # -> one Applied per item, in order, as ``apply`` would have answered.
    apply_many: Callable[..., list[Applied]] | None = None


OBJECT_TYPES: dict[str, ObjectType] = {}


def register_object_type(object_type: ObjectType) -> ObjectType:
    existing = OBJECT_TYPES.get(object_type.name)
    if existing is not None and existing != object_type:
        raise RuntimeError(f"docking object type {object_type.name!r} is already registered")
    OBJECT_TYPES[object_type.name] = object_type
    return object_type


def object_type(name: str) -> ObjectType | None:
    return OBJECT_TYPES.get(name)


# --- objects that belong to an agency (decisions, catalogue versions, annual
# reports): scoped by its 统一社会信用代码, refused where this platform has
# no such agency.

def agency_scope(data: dict) -> Scope:
    return Scope(agency_code=str(data.get("agency") or "").strip().upper())


def unknown_agency(data: dict) -> Applied:
    return Applied("refused", "unknown_agency",
                   f"agency：本平台未登记统一社会信用代码为 {str(data.get('agency'))[:32]} 的执法部门。")
