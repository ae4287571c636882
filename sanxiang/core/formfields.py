"""Form fields that choose rows by id through the one parsing layer
(core/parsing.py). Django's ModelMultipleChoiceField hands every submitted
value to ``pk__in``: a value beyond 64 bits answered OverflowError (SQLite)
or DataError (PostgreSQL), a 500, instead of "not a valid choice"."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .parsing import BadNumber, parse_id


def _ids(values, field: forms.Field) -> None:
    for value in values:
        if value in field.empty_values:
            continue
        try:
            parse_id(str(value), field=None)
        except BadNumber:
            raise ValidationError(field.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                  params={"pk": str(value)[:32]}) from None


class IdModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        _ids(value, self)
        return super()._check_values(value)


class IdModelChoiceField(forms.ModelChoiceField):
    default_error_messages = {"invalid_pk_value": forms.ModelMultipleChoiceField.default_error_messages["invalid_pk_value"]}

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, self.queryset.model):
            try:
                parse_id(str(value), field=None)
            except BadNumber:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from None
        return super().to_python(value)
