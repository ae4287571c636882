"""Object types that belong to one agency and are sent whole when they
change (catalogue versions, annual reports): the sending listener and the
receiving ``apply`` are the same for each, only the owning app's functions
differ (its ``travelling_form``, ``key_of`` and ``receive``)."""

from __future__ import annotations

from typing import Callable

from sanxiang.core.models import Agency

from . import services
from .registry import Applied, ObjectType, agency_scope, unknown_agency


def change_listener(*, event: str, object_type_name: str, travelling_form: Callable, key_of: Callable) -> Callable:
    """The owning app's registry listener: one outbox message per change
    (services.enqueue_change: the next version of its message); nothing
    while no upstream is set."""

    def listener(obj) -> None:
        if services.upstream() is None:
            return
        form = travelling_form(obj)
        if form is not None:
            services.enqueue_change(event_type=event, object_type_name=object_type_name, key=key_of(form), data=form)

    return listener


def object_type(*, name: str, schema_version: int, receive: Callable, local_id: str) -> ObjectType:
    """The type whose ``apply`` finds the object's agency here (else
    ``unknown_agency``) and stores it through ``receive(actor, agency, form,
    source_name)``, whose answer carries the stored row's id in the
    attribute ``local_id``."""

    def apply(*, actor: str, instance, data: dict, event: str) -> Applied:
        agency = Agency.objects.filter(credit_code=agency_scope(data).agency_code).first()
        if agency is None:
            return unknown_agency(data)
        received = receive(actor=actor, agency=agency, form=data, source_name=instance.name)
        if received.outcome != "applied":
            return Applied("refused", received.code, received.message)
        return Applied("applied", local_id=str(getattr(received, local_id)))

    return ObjectType(name=name, schema_version=schema_version, scope=agency_scope, apply=apply)
