"""亮证: the public verification page, its QR codes, and the public officer list."""

from datetime import date
from io import BytesIO

import pytest
import segno
from django.test import Client

from sanxiang.core import services


@pytest.fixture
def states(world):
    services.set_officer_status(actor="t", officer=world.zhengding_officer, status="suspended", reason="违纪调查")
    services.set_officer_status(actor="t", officer=world.lunan_officer, status="revoked", reason="调离执法岗位")
    services.update_officer(actor="t", officer=world.changan_officer2, valid_to=date(2025, 6, 30))
    return world


@pytest.mark.parametrize("attr, label", [
    ("changan_officer", "证件有效"), ("changan_officer2", "证件已过期"),
    ("zhengding_officer", "证件已暂扣"), ("lunan_officer", "证件已注销"),
])
def test_verification_page_shows_each_validity_state(states, attr, label):
    officer = getattr(states, attr)
    page = Client().get(f"/verify/{officer.certificate_number}")
    html = page.content.decode()
    assert page.status_code == 200
    assert label in html and officer.name in html and officer.agency.name in html
    assert officer.enforcement_region.name in html and "行政处罚" in html


def test_verification_page_shows_nothing_more_personal(world):
    html = Client().get(f"/verify/{world.changan_officer.certificate_number}").content.decode()
    assert world.u_changan.username not in html
    assert "执法队员" not in html  # the post is on the officer list, not the 亮证 card


def test_unknown_certificate_is_a_clear_404(world):
    r = Client().get("/verify/1301020009999X")
    assert r.status_code == 404 and "未查到" in r.content.decode()


def test_every_certificate_has_svg_and_png_qr_codes_pointing_to_its_page(world):
    number = world.changan_officer.certificate_number
    c = Client()
    svg = c.get(f"/verify/{number}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert b'xmlns="http://www.w3.org/2000/svg"' in svg.content
    expected = segno.make(f"http://testserver/verify/{number}", error="m")
    # The same modules as an independent encoding of the page's address.
    assert svg.content.count(b"<path") == 1 and expected.symbol_size(scale=6, border=4)[0] > 0
    same = BytesIO()
    expected.save(same, kind="svg", scale=6, border=4, dark="#1b1b1b", xmldecl=False)
    assert svg.content == same.getvalue()
    png = c.get(f"/verify/{number}/qr.png")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert c.get("/verify/1301020009999X/qr.png").status_code == 404


def test_public_officer_list_searches_by_name_and_certificate_and_region(states):
    c = Client()
    html = c.get("/officers/", {"q": "王建国"}).content.decode()
    assert "王建国" in html and "赵志强" not in html
    html = c.get("/officers/", {"q": states.zhengding_officer2.certificate_number}).content.decode()
    assert states.zhengding_officer2.name in html and "王建国" not in html
    html = c.get("/officers/", {"region": "130200"}).content.decode()
    assert "吴桂兰" in html and "王建国" not in html
    assert "周海涛" not in html  # revoked certificates leave the public list
    html = c.get("/officers/", {"region": "130100"}).content.decode()
    assert "王建国" in html and "赵志强" in html and "吴桂兰" not in html


def test_public_api_verifies_a_certificate(states):
    r = Client().get(f"/api/v1/certificates/{states.zhengding_officer.certificate_number}")
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "suspended" and body["name"] == "赵志强"
    assert set(body) == {"certificate_number", "name", "agency", "categories", "enforcement_region", "valid_from", "valid_to", "state"}
