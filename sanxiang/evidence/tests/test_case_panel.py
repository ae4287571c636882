"""The case page lists the case's evidence (记录-4; issue 11 journey (b)):
an item uploaded through tus from a step's page appears on the case page
with its kind, name, time and step, linked to its own page; another
agency's user sees no panel (the item is out of scope), and a case without
evidence has no empty panel."""

from __future__ import annotations

import types

from django.urls import reverse

from sanxiang.conftest import client_for

from .conftest import jpeg_bytes
from .test_sharing_powers import tus_upload


def test_an_uploaded_item_is_listed_on_the_case_page_with_its_step_and_link(cases, settings):
    settings.REQUIRE_TOTP = False
    w = cases
    page = reverse("cases:detail", kwargs={"pk": w.case.pk})
    client = client_for(w.u_changan)
    before = client.get(page)
    assert before.status_code == 200 and 'id="case-evidence"' not in before.content.decode()

    item = tus_upload(client, types.SimpleNamespace(case=w.case, step=w.step), jpeg_bytes(1500))
    html = client.get(page).content.decode()
    assert 'id="case-evidence"' in html
    assert reverse("evidence:detail", kwargs={"pk": item.pk}) in html
    assert reverse("evidence:step", kwargs={"case_id": w.case.pk, "step_id": w.step.pk}) in html
    assert "调查取证" in html and "1 件证据" in html


def test_another_agencys_user_sees_no_evidence_of_the_case(cases, settings):
    settings.REQUIRE_TOTP = False
    w = cases
    tus_upload(client_for(w.u_changan), types.SimpleNamespace(case=w.case, step=w.step), jpeg_bytes(900))
    from sanxiang.cases.registry import case_panels

    assert [p.template for p in case_panels(user=w.u_changan, case=w.case)].count("evidence/_case_panel.html") == 1
    assert "evidence/_case_panel.html" not in [p.template for p in case_panels(user=w.u_zhengding, case=w.case)]
