"""The key pages work under the Content-Security-Policy (issue 9, §7): a real
chromium loads them from the live server with the policy on and the test
fails on any violation the browser reports (console or
securitypolicyviolation event). A control first shows that an inline script
is indeed refused and seen."""

from __future__ import annotations

import pytest

from sanxiang.conftest import log_in

WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' @ ' + e.sourceFile + ':' + e.lineNumber));
"""

PUBLIC = ["/", "/officers/", "/verify/", "/deadlines/", "/catalog/", "/decisions/", "/decisions/withdrawn/", "/login/"]
SIGNED_IN = ["/workbench/", "/workbench/officers/", "/workbench/cases/", "/workbench/publicity/", "/review/",
             "/account/password/", "/admin/", "/admin/core/officer/", "/api/v1/docs"]


@pytest.fixture
def page(browser_page):
    browser_page.console_csp = []
    browser_page.on("console", lambda m: browser_page.console_csp.append(m.text)
                    if "Content Security Policy" in m.text else None)
    browser_page.add_init_script(WATCH)
    return browser_page


def violations(page) -> list[str]:
    return page.console_csp + page.evaluate("window.__cspViolations || []")


def test_an_inline_script_is_refused_and_the_refusal_is_seen(page):
    page.goto(page.base + "/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert violations(page), "the browser reported no violation: the detector is blind"


def test_key_pages_load_under_the_csp_without_a_single_violation(page, world, settings):
    settings.REQUIRE_TOTP = False
    seen = {}
    for path in PUBLIC:
        response = page.goto(page.base + path)
        assert response.status < 400, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        seen[path] = violations(page)
    page.click("label.navbutton")  # the phone menu works (CSS only)
    log_in(page, "sysadmin")
    page.wait_for_url("**/workbench/")
    for path in SIGNED_IN:
        response = page.goto(page.base + path)
        assert response.status < 400, path
        page.wait_for_load_state("networkidle")
        seen[path] = violations(page)
    assert page.locator("#swagger-ui").count() == 1
    assert page.locator("#swagger-ui .opblock").count() > 0  # the API docs' own scripts ran
    assert not any(seen.values()), {p: v for p, v in seen.items() if v}
