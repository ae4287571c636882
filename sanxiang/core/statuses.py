"""Changing a row's status with its audit entry: the one implementation of
"validate the new status, save it, append from/to/reason", used by the
services that change an officer's certificate status (core) and a
recorder's status (evidence). The service calling it has checked who acts
and holds the transaction."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from .audit import append_audit


def change_status(*, actor, obj, status: str, choices, action: str, what: str, reason: str, reason_required: bool = False):
    """Set ``obj.status`` to one of ``choices`` (a TextChoices) and append
    ``action`` with from, to and reason, in the caller's transaction; ``what``
    names the thing in the Chinese errors (证件, 设备). The one status change
    of an officer's certificate and of a recorder."""
    if status not in choices.values:
        raise ValidationError({"status": ValidationError(f"{what}状态无效。", code="invalid_choice")})
    if reason_required and not reason.strip():
        raise ValidationError({"reason": ValidationError(f"变更{what}状态须填写理由。", code="required")})
    old = obj.status
    obj.status = status
    obj.save(update_fields=["status"])
    append_audit(actor=actor, action=action, obj=obj, payload={"from": old, "to": status, "reason": reason})
    return obj
