"""The cockpit's pages: jurisdiction, drill-down region → agency → case,
the period form's errors, the Excel export holding the tables' numbers."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from sanxiang.conftest import client_for, make_user
from sanxiang.core.models import Role
from sanxiang.statistics.forms import default_period

pytestmark = pytest.mark.django_db

PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def _table(html: str, code: str) -> str:
    start = html.index(f'<table data-section="{code}"')
    return html[start:html.index("</table>", start)]


def test_a_city_supervisor_sees_the_counties_below_and_drills_down_to_an_agency_and_its_cases(dataset, no_totp):
    w = dataset.world
    c = client_for(w.u_legal_sjz)
    page = c.get("/statistics/cockpit/", PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    cases = _table(html, "cases")
    assert "长安区" in cases and "正定县" in cases and "路南区" not in cases  # Tangshan is another city's
    assert "?region=130102&amp;date_from=2026-03-01" in cases
    money = _table(html, "money")
    assert "1500.00" in money and "1700.00" in money  # Chang'an; the city's total with Zhengding's 200
    assert 'id="cockpit-data"' in html and "vendor/echarts/echarts.min.js" in html
    # the county: one row per agency, linking to the agency's page
    county = c.get("/statistics/cockpit/", {"region": "130102", **PERIOD}).content.decode()
    assert f"/statistics/cockpit/agencies/{dataset.A.pk}/?date_from=2026-03-01" in county
    # the agency: its figures and its cases, each linking to the case page
    agency = c.get(f"/statistics/cockpit/agencies/{dataset.A.pk}/", PERIOD)
    assert agency.status_code == 200
    body = agency.content.decode()
    assert "案件1" in body and "/cases/" in body and "1500.00" in _table(body, "money")
    assert "案件5" not in body  # opened in April: outside the period


def test_an_office_never_sees_another_regions_figures(dataset, no_totp):
    w = dataset.world
    c = client_for(w.u_legal_ts)
    html = c.get("/statistics/cockpit/", PERIOD).content.decode()
    assert "长安区" not in html and "30000.00" in _table(html, "money")  # Lunan's fine only
    assert c.get("/statistics/cockpit/", {"region": "130100", **PERIOD}).status_code == 404
    assert c.get(f"/statistics/cockpit/agencies/{dataset.A.pk}/", PERIOD).status_code == 404
    assert c.get(f"/statistics/cockpit/agencies/{dataset.A.pk}/export.xlsx", PERIOD).status_code == 404
    assert c.get("/statistics/cockpit/export.xlsx", {"region": "130102", **PERIOD}).status_code == 404


def test_only_supervisors_and_administrators_open_the_cockpit(dataset, no_totp):
    w = dataset.world
    assert client_for(w.u_changan).get("/statistics/cockpit/", PERIOD).status_code == 403
    assert client_for(w.u_admin).get("/statistics/cockpit/", PERIOD).status_code == 200
    assert client_for(w.u_legal_hebei).get("/statistics/cockpit/", PERIOD).status_code == 200
    head = make_user("head_changan", Role.AGENCY_HEAD, agency=w.amr_changan)
    assert client_for(head).get(f"/statistics/cockpit/agencies/{dataset.A.pk}/", PERIOD).status_code == 403


@pytest.mark.parametrize("params, field, message", [
    ({"date_from": "2026-13-01", "date_to": "2026-03-31"}, "date_from", "YYYY-MM-DD"),
    ({"date_from": "", "date_to": "2026-03-31"}, "date_from", None),
    ({"date_from": "2026-03-31", "date_to": "2026-03-01"}, "date_to", None),
    ({"date_from": "1066-10-14", "date_to": "2026-03-01"}, "date_from", "1900-01-01"),
    ({"date_from": "2026-03-01", "date_to": "99999-01-01"}, "date_to", None),
])
def test_a_bad_period_is_named_on_its_field_and_nothing_is_counted(dataset, no_totp, params, field, message):
    c = client_for(dataset.world.u_legal_sjz)
    for url in ("/statistics/cockpit/", "/statistics/cockpit/export.xlsx", f"/statistics/cockpit/agencies/{dataset.A.pk}/"):
        page = c.get(url, params)
        assert page.status_code == 400, url
        html = page.content.decode()
        assert f'id="{field}-error"' in html and "cockpit-data" not in html
        if message:
            assert message in html


def test_without_dates_the_cockpit_shows_the_twelve_months_up_to_today(dataset, no_totp):
    from sanxiang.core import clock

    html = client_for(dataset.world.u_legal_sjz).get("/statistics/cockpit/").content.decode()
    first, last = default_period(clock.today())
    assert f'value="{first.isoformat()}"' in html and f'value="{last.isoformat()}"' in html
    assert default_period(date(2028, 2, 29)) == (date(2027, 3, 1), date(2028, 2, 29))
    assert default_period(date(2027, 1, 2)) == (date(2026, 1, 3), date(2027, 1, 2))


def test_the_excel_export_holds_the_numbers_of_the_tables(dataset, no_totp):
    c = client_for(dataset.world.u_legal_sjz)
    response = c.get("/statistics/cockpit/export.xlsx", PERIOD)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    rows = {r[0]: r[1:] for r in book["罚款和没收金额（元）"].iter_rows(values_only=True)}
    assert rows["长安区"] == (3, 1500.0, 250.5) and rows["正定县"] == (1, 200.0, 0.0)
    assert rows["合计"] == (4, 1700.0, 250.5)
    reviews = {r[0]: r[1:] for r in book["法制审核"].iter_rows(values_only=True)}
    assert reviews["长安区"] == (2, 1, 50.0, 1, 6.5)
    kinds = {r[0]: r[1:] for r in book["按执法行为类别统计案件"].iter_rows(values_only=True)}
    assert kinds["行政处罚"] == (3, 1) and kinds["行政许可"] == (0, 1) and kinds["行政检查"] == (1, 0)
    assert kinds["合计"] == (4, 2)
    agency = c.get(f"/statistics/cockpit/agencies/{dataset.A.pk}/export.xlsx", PERIOD)
    sheet = load_workbook(io.BytesIO(agency.content))["罚款和没收金额（元）"]
    assert [r for r in sheet.iter_rows(values_only=True)][1] == (dataset.A.name, 3, 1500.0, 250.5)


def test_the_cockpit_is_in_a_supervisors_navigation(dataset, no_totp):
    html = client_for(dataset.world.u_legal_sjz).get("/workbench/").content.decode()
    assert 'href="/statistics/cockpit/"' in html
    cockpit = client_for(dataset.world.u_legal_sjz).get("/statistics/cockpit/", PERIOD).content.decode()
    assert 'class="back"><a href="/workbench/"' in cockpit
