"""The back office speaks Chinese (issue 11 item 8, "admin labels"): every
model name, field name, help text and choice of every installed project app, and of
django-axes' login records, translates to Chinese — whether or not the model
is registered in the admin today (a model registered later must not bring
English labels with it)."""

from __future__ import annotations

import re

from django.apps import apps
from django.utils import translation

from sanxiang.core.admin import site

CJK = re.compile(r"[\u4e00-\u9fff]")


def _project_apps() -> set[str]:
    return {c.label for c in apps.get_app_configs() if c.name.startswith("sanxiang.")} | {"axes"}


def _english_labels(app_labels: set[str]) -> list[str]:
    found = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            meta = model._meta
            if meta.app_label not in app_labels:
                continue
            for label in (meta.verbose_name, meta.verbose_name_plural):
                if not CJK.search(str(label)):
                    found.append(f"{meta.label}: {label}")
            for field in meta.get_fields():
                if field.auto_created or not hasattr(field, "verbose_name") or field.model is not model:
                    continue
                if not CJK.search(str(field.verbose_name)):
                    found.append(f"{meta.label}.{field.name}: {field.verbose_name}")
                if field.help_text and not CJK.search(str(field.help_text)):
                    found.append(f"{meta.label}.{field.name} help: {field.help_text}")
                for value, label in getattr(field, "flatchoices", None) or []:
                    if not CJK.search(str(label)):
                        found.append(f"{meta.label}.{field.name} = {value}: {label}")
    return found


def test_every_project_model_field_and_choice_has_a_chinese_label():
    checked = _project_apps()
    assert {"core", "api", "documents", "publicity", "catalog", "cases", "evidence", "review", "axes"} <= checked
    assert _english_labels(checked) == []


def test_the_admin_registers_models_of_the_checked_apps():
    registered = {m._meta.app_label for m in site._registry}
    assert {"core", "axes"} <= registered


def test_an_untranslated_label_is_caught():
    from sanxiang.core.models import CalendarDay

    field = CalendarDay._meta.get_field("year")
    saved = field.verbose_name
    field.verbose_name = "year of the schedule"
    try:
        assert "core.CalendarDay.year: year of the schedule" in _english_labels({"core"})
    finally:
        field.verbose_name = saved
