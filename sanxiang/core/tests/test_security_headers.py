"""Response headers (issue 9, §7): a Content-Security-Policy with no inline
script, Permissions-Policy, nosniff, Referrer-Policy and frame denial on
every page; in production HSTS and HTTPS, and `manage.py check --deploy`
clean. Production mode is a separate Python process with the production
environment variables, as an operator starts it."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

PACKAGE = Path(__file__).resolve().parents[2]


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


@pytest.mark.parametrize("path", ["/", "/login/", "/officers/", "/verify/", "/api/v1/docs"])
def test_every_page_answers_with_csp_permissions_policy_and_the_usual_headers(db, path):
    r = Client().get(path)
    assert r.status_code == 200
    csp = _directives(r["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert "camera=()" in r["Permissions-Policy"] and "geolocation=()" in r["Permissions-Policy"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Frame-Options"] == "DENY"


def test_the_api_docs_page_loads_its_scripts_from_the_platform_not_a_cdn(db):
    html = Client().get("/api/v1/docs").content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def test_no_template_carries_inline_script_or_event_handlers():
    """The CSP refuses inline script: behaviour lives in static .js files."""
    offenders = []
    for path in PACKAGE.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, JS_URL):
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {m.group(0)}")
    assert not offenders, "\n".join(offenders)


def production_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANXIANG_") and k != "DATABASE_URL"}
    env.update(SANXIANG_ENV="production", SANXIANG_SECRET_KEY=secrets.token_urlsafe(48),
               SANXIANG_ALLOWED_HOSTS="sanxiang.example.gov.cn", SANXIANG_DATA_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="sanxiang.settings", **extra)
    return env


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    r = subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                       env=production_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client(HTTP_HOST="sanxiang.example.gov.cn")
plain = c.get("/verify/")
tls = c.get("/verify/", secure=True)
print(json.dumps({"plain": [plain.status_code, plain.get("Location", "")], "tls": tls.status_code,
                  "headers": dict(tls.headers.items()), "session_age": settings.SESSION_COOKIE_AGE,
                  "cookie_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE]}))
"""


def test_production_answers_with_hsts_over_https_and_redirects_plain_http(tmp_path):
    r = subprocess.run([sys.executable, "-c", PROBE], env=production_env(tmp_path, SANXIANG_SESSION_IDLE_HOURS="4"),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["plain"] == [301, "https://sanxiang.example.gov.cn/verify/"]
    assert out["tls"] == 200
    headers = out["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self';" in headers["Content-Security-Policy"]
    assert "microphone=()" in headers["Permissions-Policy"]
    assert out["session_age"] == 4 * 3600  # the idle timeout is an environment variable
    assert out["cookie_secure"] == [True, True]
