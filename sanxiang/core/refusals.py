"""A power refused by a ``can_*`` predicate, as an exception.

Services raise ``Refused(verdict)`` when a predicate says who acts may not:
it is a PermissionDenied (pages show its Chinese message, the API answers
403) that carries the verdict's stable ``code``, its ``message`` (citing the
article or dated rule) and the ``field`` at fault, so the API answers
``{code, field, message}`` with them instead of a generic "forbidden"."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


class Refused(PermissionDenied):
    def __init__(self, verdict):
        super().__init__(verdict.reason)
        self.verdict = verdict
        self.code = verdict.code or "forbidden"
        self.message = verdict.reason
        self.field = getattr(verdict, "field", None)

    def __str__(self) -> str:
        return self.message
