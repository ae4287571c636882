"""Journey (e) of issue 11, in chromium: the public verifies an officer by
the QR code of the officer's certificate (亮证). The agency prints the QR
from the officer's back-office page; the code encodes the public
verification address (checked against an independent encoding of that
address); anyone — not logged in, on a phone — who opens that address sees
the officer's name, agency and whether the certificate is valid, and a
suspended certificate is said to be suspended."""

from __future__ import annotations

from io import BytesIO

import segno

from sanxiang.conftest import PHONE, log_in, no_horizontal_scroll
from sanxiang.core import services


def _qr_png(url: str) -> bytes:
    out = BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def test_the_public_verifies_an_officer_by_the_qr_code(browser_page, world, settings):
    settings.REQUIRE_TOTP = False
    w = world
    services.set_officer_status(actor="test", officer=w.zhengding_officer, status="suspended", reason="违纪调查")
    pg = browser_page
    log_in(pg, "sysadmin", w.password)
    pg.wait_for_url("**/workbench/")
    scanned = {}
    for officer in (w.changan_officer, w.zhengding_officer):
        # the back office: the officer's page offers the QR to print on the card
        pg.goto(f"{pg.base}/workbench/officers/{officer.pk}/")
        qr_link = pg.locator("a", has_text="PNG")
        png = pg.request.get(pg.base + qr_link.get_attribute("href"))
        assert png.ok and png.headers["content-type"] == "image/png"
        address = f"{pg.base}/verify/{officer.certificate_number}"
        assert png.body() == _qr_png(address)  # the code holds exactly this address
        scanned[officer.certificate_number] = address

    # the public: a fresh phone browser, nobody logged in, opens the scanned address
    public = pg.context.browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                            locale="zh-CN")
    phone = public.new_page()
    phone.goto(scanned[w.changan_officer.certificate_number])
    text = phone.inner_text("main")
    assert "证件有效" in text and w.changan_officer.name in text and w.amr_changan.name in text
    assert phone.locator("form[action='/logout/']").count() == 0  # nobody is logged in
    assert no_horizontal_scroll(phone)
    phone.goto(scanned[w.zhengding_officer.certificate_number])
    text = phone.inner_text("main")
    assert "证件已暂扣" in text and w.zhengding_officer.name in text and "证件有效" not in text
    public.close()
