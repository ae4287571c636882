"""The key public pages and the login in a real browser (Debian's chromium,
driven by Playwright) at a phone's size, against a real HTTP server."""

import pytest

from sanxiang.conftest import no_horizontal_scroll


@pytest.fixture
def page(browser_page):
    return browser_page


def test_home_page_fits_a_phone_and_its_menu_opens(page, tmp_path):
    page.goto(page.base + "/")
    assert "行政执法三项制度平台" in page.title() or "三项制度" in page.title()
    assert no_horizontal_scroll(page)
    menu_link = page.get_by_role("link", name="执法人员清单")
    assert not menu_link.is_visible()  # folded behind the ☰ button on a phone
    page.click("label.navbutton")
    assert menu_link.is_visible()
    page.screenshot(path=str(tmp_path / "home-phone.png"), full_page=True)


def test_verification_by_typing_a_number_on_a_phone(page, world):
    page.goto(page.base + "/")
    page.fill("input[name=number]", world.changan_officer.certificate_number)
    page.press("input[name=number]", "Enter")
    page.wait_for_url(f"**/verify/{world.changan_officer.certificate_number}")
    assert page.locator(".certificate .state").inner_text() == "证件有效"
    assert world.changan_officer.name in page.content()
    assert no_horizontal_scroll(page)
    assert page.locator("img.qr").evaluate("img => img.complete && img.naturalWidth > 0")


def test_officer_list_is_readable_as_cards_on_a_phone(page, world):
    page.goto(page.base + "/officers/?q=王建国")
    assert no_horizontal_scroll(page)
    row = page.locator("tbody tr").first
    assert "王建国" in row.inner_text()
    assert not page.locator("thead").is_visible()  # no header row squeezed into 390 px ...
    cell = row.locator("td").nth(3)
    # ... each value stacks on its own line, labelled
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert "执法证号" in cell.evaluate("td => getComputedStyle(td, '::before').content")


def test_officer_logs_in_on_a_phone_and_reaches_the_workbench(page, world):
    page.goto(page.base + "/workbench/")
    page.fill("input[name=username]", "changan_officer")
    page.fill("input[name=password]", world.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/workbench/")
    assert "工作台" in page.content() and world.amr_changan.name in page.content()
    assert no_horizontal_scroll(page)
