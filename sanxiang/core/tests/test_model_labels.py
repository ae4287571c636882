"""The back office speaks Chinese for the tables core owns and for
django-axes' login records (issue 11 item 8, "admin labels"): every model
name, field name and choice the admin shows for them translates to Chinese.
(The labels of catalog, cases, evidence and review fields without a
verbose_name are those apps' to add with their own migrations.)"""

from __future__ import annotations

import re

from django.utils import translation

from sanxiang.core.admin import site

CJK = re.compile(r"[\u4e00-\u9fff]")
APPS = {"core", "axes"}


def _english_labels() -> list[str]:
    found = []
    with translation.override("zh-hans"):
        for model in site._registry:
            meta = model._meta
            if meta.app_label not in APPS:
                continue
            for label in (meta.verbose_name, meta.verbose_name_plural):
                if not CJK.search(str(label)):
                    found.append(f"{meta.label}: {label}")
            for field in meta.get_fields():
                if field.auto_created or not hasattr(field, "verbose_name"):
                    continue
                if not CJK.search(str(field.verbose_name)):
                    found.append(f"{meta.label}.{field.name}: {field.verbose_name}")
                for value, label in getattr(field, "choices", None) or []:
                    if not CJK.search(str(label)):
                        found.append(f"{meta.label}.{field.name} = {value}: {label}")
    return found


def test_admin_labels_are_chinese():
    assert [m._meta.app_label for m in site._registry if m._meta.app_label in APPS]
    assert _english_labels() == []
