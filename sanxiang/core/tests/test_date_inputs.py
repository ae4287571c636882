"""Date inputs render ISO dates whatever the language: an <input type="date">
shows only a YYYY-MM-DD value, and zh-hans formats dates as 2026/09/02, which
a browser shows as an empty field (the default date is lost)."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date

from django import forms
from django.utils import translation

import sanxiang


def _project_forms():
    """Every Form class defined in a ``forms`` module of a sanxiang app."""
    for app in pkgutil.iter_modules(sanxiang.__path__):
        if not app.ispkg:
            continue
        try:
            module = importlib.import_module(f"sanxiang.{app.name}.forms")
        except ModuleNotFoundError as exc:
            if exc.name != f"sanxiang.{app.name}.forms":
                raise
            continue
        for name, cls in vars(module).items():
            if isinstance(cls, type) and issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield f"{app.name}.{name}", cls


def test_every_date_field_of_the_project_renders_an_iso_value_in_chinese():
    checked = []
    with translation.override("zh-hans"):
        for name, cls in _project_forms():
            for field_name, field in cls.base_fields.items():
                if isinstance(field, forms.DateField):
                    html = field.widget.render(field_name, date(2026, 9, 2))
                    assert 'type="date"' in html and 'value="2026-09-02"' in html, (name, field_name, html)
                    checked.append(f"{name}.{field_name}")
    assert {"cases.OpenCaseForm.opened_on", "cases.HearingRequestForm.requested_on",
            "cases.HearingWaiverForm.waived_on", "cases.TerminateForm.on"} <= set(checked)
