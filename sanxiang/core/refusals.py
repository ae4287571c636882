"""Refusals: how a service says no, and how a page shows it.

- ``Refused(verdict)``: who acts may not (a ``can_*`` predicate said so);
- ``reject(field, message, code)``: the data or the record's state is wrong;
- ``message_of(exc)``: the Chinese text a page shows for either.

A power refused by a ``can_*`` predicate, as an exception.

Services raise ``Refused(verdict)`` when a predicate says who acts may not:
it is a PermissionDenied (pages show its Chinese message, the API answers
403) that carries the verdict's stable ``code``, its ``message`` (citing the
article or dated rule) and the ``field`` at fault, so the API answers
``{code, field, message}`` with them instead of a generic "forbidden"."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


class Refused(PermissionDenied):
    def __init__(self, verdict):
        super().__init__(verdict.reason)
        self.verdict = verdict
        self.code = verdict.code or "forbidden"
        self.message = verdict.reason
        self.field = getattr(verdict, "field", None)

    def __str__(self) -> str:
        return self.message


def reject(field: str, message: str, code: str):
    """Raise the refusal of a write about its data or the record's state: a
    ValidationError naming the field, with the Chinese message and a stable
    code (the API answers {code, field, message} with them, never a bare
    "invalid")."""
    raise ValidationError({field: ValidationError(message, code=code)})


def message_naming_fields(exc) -> str:
    """message_of, each message prefixed with the field it is about
    ("valid_from：…"): for answers to another system (docking's per-record
    refusals), where the field's code is what the sender can act on."""
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return "；".join(f"{field}：{'，'.join(msgs)}" for field, msgs in exc.message_dict.items())
    return message_of(exc)


def message_of(exc) -> str:
    """What a page shows for a refused write (a ValidationError or a
    PermissionDenied raised by a service): every message of the error, each
    already in Chinese naming its problem, joined by "；". The one helper of
    every app's views."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or _("You may not do this.")


def run_shown(request, action, success: str = "") -> bool:
    """Run a page's write `action()`. A refusal (ValidationError or
    PermissionDenied) is shown as an error message (message_of) and False
    returned; else `success`, if given, is shown and True returned. The one
    try/except of the apps' POST pages."""
    try:
        action()
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, message_of(exc))
        return False
    if success:
        messages.success(request, success)
    return True
