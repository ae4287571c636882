"""The portal search page's parts written in one pass (publicity_tags
result_list, choice_options, region_options/agency_options; the view's
pager_query), because a page of twenty results as template nodes cost more
than the search behind it (docs/performance.md): each result links its
decision and shows its fields escaped, the pager keeps the search and moves
the page, the kind and category lists keep the choice, an empty search says
so, and the remembered option lists follow a renamed agency."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from django.test import Client

from sanxiang.core import services
from sanxiang.core.models import Agency
from sanxiang.publicity.models import Decision, PublicDecision
from sanxiang.publicity.redaction import public_copy
from sanxiang.publicity.search import index_public

pytestmark = pytest.mark.django_db


def _publish(world, n: int, *, title: str, category: str = "罚款", fine: int | None = 500_000,
             day: date = date(2026, 3, 1)) -> PublicDecision:
    agency = world.amr_changan
    data = {"facts": f"当事人销售过期食品，第{n}次。", "basis": "《中华人民共和国食品安全法》第一百二十四条",
            "content": "罚款人民币5000元。", "penalty_categories": [category] if category else [], "fine_fen": fine}
    doc, party = f"冀石长市监罚〔2026〕{n}号", f"石家庄市第{n}超市有限公司"
    decision = Decision.objects.create(agency=agency, external_id=f"list-{n}", kind="penalty", status="published",
                                       data=data, doc_number=doc, party_name=party, party_type="legal_person",
                                       decision_date=day)
    copy = public_copy({**data, "doc_number": doc, "party_name": party}, party_is_natural_person=False, kind="penalty",
                       title=title)
    public = PublicDecision.objects.create(
        decision=decision, agency=agency, region_path=agency.region.path, kind="penalty", version=1,
        doc_number=copy.doc_number, party_name=copy.party_name, title=copy.title, data=copy.data,
        main_category=category, decision_date=day, fine_fen=fine,
        published_at=datetime(2026, 8, 1, tzinfo=timezone.utc), visible=True)
    index_public(public)
    return public


def _results(html: str) -> str:
    return html[html.index('<ul class="results">'):html.index("</ul>", html.index('<ul class="results">'))]


def test_each_result_links_its_decision_and_shows_its_fields_with_the_searched_words_marked(world):
    Agency.objects.filter(pk=world.amr_changan.pk).update(name="长安区市场监督管理局<&>")
    public = _publish(world, 1, title="<b>超市</b>销售过期食品案")
    html = Client().get("/decisions/", {"q": "过期"}).content.decode()
    item = _results(html)
    assert f'<a href="/decisions/{public.pk}/"><strong>&lt;b&gt;超市&lt;/b&gt;销售<mark>过期</mark>食品案</strong></a>' in item
    assert ('<div class="meta">冀石长市监罚〔2026〕1号 · 长安区市场监督管理局&lt;&amp;&gt; · 2026-03-01 · 罚款'
            ' · 罚款金额 5,000.00 元</div>') in item
    assert '<p class="snippet">' in item and "<mark>过期</mark>食品" in item
    assert "<b>" not in item


def test_a_result_without_category_or_fine_shows_neither(world):
    _publish(world, 2, title="超市案", category="", fine=None)
    item = _results(Client().get("/decisions/").content.decode())
    assert re.search(r'<div class="meta">冀石长市监罚〔2026〕2号 · [^<·]+ · 2026-03-01</div>', item)
    assert "罚款金额" not in item


def test_an_empty_search_says_no_decision_matches(world):
    item = _results(Client().get("/decisions/", {"q": "没有这样的词"}).content.decode())
    assert "<li>没有符合条件的执法决定。</li>" in item and 'class="result"' not in item


def test_the_pager_keeps_the_search_and_moves_the_page(world):
    for n in range(25):
        _publish(world, 100 + n, title=f"超市销售过期食品案{n}")
    first = Client().get("/decisions/", {"q": "超市", "kind": "penalty", "sort": "newest"}).content.decode()
    pager = first[first.index('<nav class="pager">'):]
    assert '<a href="?q=%E8%B6%85%E5%B8%82&amp;kind=penalty&amp;sort=newest&amp;page=2">下一页</a>' in pager
    assert "上一页" not in pager and "第 1 页，共 2 页" in pager
    second = Client().get("/decisions/", {"q": "超市", "kind": "penalty", "sort": "newest", "page": "2"}).content.decode()
    pager = second[second.index('<nav class="pager">'):]
    assert '<a href="?q=%E8%B6%85%E5%B8%82&amp;kind=penalty&amp;sort=newest&amp;page=1">上一页</a>' in pager
    assert "下一页" not in pager
    assert _results(second).count('class="result"') == 5


def test_the_pager_encodes_what_it_repeats(world):
    for n in range(21):
        _publish(world, 200 + n, title=f"超市案{n}")
    html = Client().get("/decisions/?q=%E8%B6%85%E5%B8%82&to=2026-12-31&x=%22%3E%3Cscript%3E").content.decode()
    pager = html[html.index('<nav class="pager">'):]
    assert "x=%22%3E%3Cscript%3E&amp;page=2" in pager and "<script" not in pager


def test_kind_and_category_lists_keep_the_choice(world):
    html = Client().get("/decisions/", {"kind": "penalty", "category": "罚款"}).content.decode()
    kinds = re.search(r'<select name="kind"[^>]*>(.*?)</select>', html, re.S).group(1)
    categories = re.search(r'<select name="category"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)" selected>', kinds) == ["penalty"]
    assert '<option value="penalty" selected>行政处罚</option>' in kinds and '<option value="license">行政许可</option>' in kinds
    assert re.findall(r'<option value="([^"]*)" selected>', categories) == ["罚款"]
    assert '<option value="警告">警告</option>' in categories


def test_the_remembered_option_lists_follow_a_renamed_agency(world):
    before = Client().get("/decisions/").content.decode()
    assert f'<option value="{world.amr_changan.pk}">石家庄市长安区市场监督管理局</option>' in before
    # Renamed as the platform renames one (the lists are held between
    # requests and read again after a save: test_portal_filters.py).
    services.update_agency(actor="test-fixture", agency=Agency.objects.get(pk=world.amr_changan.pk),
                           name="石家庄市长安区市场监管局")
    after = Client().get("/decisions/", {"agency": str(world.amr_changan.pk)}).content.decode()
    assert f'<option value="{world.amr_changan.pk}" selected>石家庄市长安区市场监管局</option>' in after
    assert "石家庄市长安区市场监督管理局" not in after
