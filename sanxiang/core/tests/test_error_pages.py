"""The error pages (400, 403, 404, 500 and a failed CSRF check) are Chinese
pages in the site's layout with a way back, never Django's English defaults
(issue 11, item 8)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.views import defaults

from sanxiang.conftest import client_for

ENGLISH_DEFAULTS = ("Not Found", "Forbidden", "Bad Request", "Server Error", "CSRF verification failed")


def _is_site_page_with_a_way_back(html: str, *, workbench: bool) -> None:
    assert 'class="top"' in html and 'class="wrap foot"' in html  # the site's header and footer
    assert "返回首页" in html
    assert ("返回工作台" in html) is workbench
    for english in ENGLISH_DEFAULTS:
        assert english not in html
    assert re.search(r"[\u4e00-\u9fff]", html)


@pytest.mark.django_db
def test_a_missing_page_is_a_chinese_404_with_the_layout_and_a_way_back(world):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    _is_site_page_with_a_way_back(html, workbench=False)
    signed_in = client_for(world.u_zhengding).get("/no-such-page/")
    _is_site_page_with_a_way_back(signed_in.content.decode(), workbench=True)


@pytest.mark.django_db
def test_a_failed_csrf_check_on_a_page_is_a_chinese_403(world):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "安全校验未通过" in html
    _is_site_page_with_a_way_back(html, workbench=False)


@pytest.mark.django_db
@pytest.mark.parametrize("handler, status, words", [
    (defaults.bad_request, 400, "请求无效"),
    (defaults.permission_denied, 403, "无权访问"),
])
def test_django_s_400_and_403_handlers_render_the_chinese_pages(world, handler, status, words):
    request = RequestFactory().get("/somewhere/")
    request.user = world.u_zhengding
    response = handler(request, PermissionDenied("English detail that must not show"))
    assert response.status_code == status
    html = response.content.decode()
    assert words in html and "English detail" not in html
    _is_site_page_with_a_way_back(html, workbench=True)


@pytest.mark.django_db
def test_the_500_page_renders_without_a_request_context_in_chinese():
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器错误" in html
    _is_site_page_with_a_way_back(html, workbench=False)


@pytest.mark.django_db
def test_the_500_page_never_raises_even_when_its_urls_cannot_be_reversed(settings):
    """A 500 page that raises hides the real error: under a URLconf without
    the site's routes it still renders, linking to "/"."""
    settings.ROOT_URLCONF = "sanxiang.core.tests.empty_urls"
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "服务器错误" in html and 'href="/"' in html
