"""The public decision search (公示-16/17, issue 11 item 8): in the top
navigation as 执法决定; words searched rank by relevance, newest first as an
option; the matched words are marked (<mark>) with everything else escaped;
the list and the page call a fine a fine (罚款金额) and a licence's content
许可内容, not 处罚内容."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest
from django.test import Client

from sanxiang.publicity import search
from sanxiang.publicity.models import Decision, PublicDecision
from sanxiang.publicity.redaction import public_copy
from sanxiang.publicity.search import index_public

pytestmark = pytest.mark.django_db

ROWS = [  # key, kind, category, decision date, party, doc number, title, facts, basis, content, fine, confiscation
    ("relevant_old", "penalty", "罚款", date(2026, 3, 2), "唐山市鑫达化工有限公司", "冀唐南环罚〔2026〕3号",
     "鑫达化工违规贮存危险废物案", "当事人将危险废物露天堆放，危险废物识别标志缺失，危险废物台账缺失。",
     "《中华人民共和国固体废物污染环境防治法》第一百一十二条", "罚款人民币80000元；没收违法所得5000元", 8_000_000, 500_000),
    ("mention_new", "penalty", "罚款", date(2026, 6, 1), "正定县宏发汽修厂", "冀石正环罚〔2026〕7号",
     "宏发汽修厂环境违法案", "当事人将含油废抹布混入生活垃圾。", "参照危险废物管理规定", "罚款人民币20000元", 2_000_000, None),
    ("licence", "license", "", date(2026, 5, 1), "石家庄市长安区张记面馆", "冀石长市监许〔2026〕45号",
     "食品经营许可", "申请人申请从事热食类食品制售，经审查符合条件。", "《食品经营许可和备案管理办法》第十三条",
     "准予许可，许可证编号JY11301020012345", None, None),
]


@pytest.fixture
def decisions(world):
    made = {}
    for n, (key, kind, category, day, party, doc, title, facts, basis, content, fine, confiscation) in enumerate(ROWS):
        agency = world.amr_changan
        data = {"facts": facts, "basis": basis, "content": content, "penalty_categories": [category] if category else [],
                "fine_fen": fine, "confiscation_fen": confiscation}
        decision = Decision.objects.create(agency=agency, external_id=f"r{n}", kind=kind, status="published", data=data,
                                           doc_number=doc, party_name=party, party_type="legal_person", decision_date=day)
        copy = public_copy({**data, "doc_number": doc, "party_name": party}, party_is_natural_person=False, kind=kind,
                           title=title)
        public = PublicDecision.objects.create(
            decision=decision, agency=agency, region_path=agency.region.path, kind=kind, version=1,
            doc_number=copy.doc_number, party_name=copy.party_name, title=copy.title, data=copy.data,
            main_category=category, decision_date=day, fine_fen=fine,
            published_at=datetime(2026, 8, 1, tzinfo=timezone.utc), visible=True)
        index_public(public)
        made[key] = public
    return made


def _order(html: str, decisions: dict) -> list[str]:
    positions = {key: html.find(f'href="/decisions/{p.pk}/"') for key, p in decisions.items()}
    return [key for key, at in sorted(positions.items(), key=lambda kv: kv[1]) if at >= 0]


def test_words_searched_rank_by_relevance_and_newest_first_is_an_option(decisions):
    ranked = Client().get("/decisions/", {"q": "危险废物"}).content.decode()
    assert _order(ranked, decisions) == ["relevant_old", "mention_new"]
    assert re.search(r'<option value="relevance" selected>', ranked)
    newest = Client().get("/decisions/", {"q": "危险废物", "sort": "newest"}).content.decode()
    assert _order(newest, decisions) == ["mention_new", "relevant_old"]
    listing = Client().get("/decisions/").content.decode()  # no words: the newest first
    assert _order(listing, decisions) == ["mention_new", "licence", "relevant_old"]


def test_matched_words_are_marked_in_the_results(decisions):
    html = Client().get("/decisions/", {"q": "危险废物"}).content.decode()
    assert "鑫达化工违规贮存<mark>危险废物</mark>案" in html
    assert "<mark>危险废物</mark>露天堆放" in html  # the excerpt is taken around the first match
    assert "<mark>" not in Client().get("/decisions/").content.decode()


def test_highlighting_escapes_everything_but_its_marks():
    assert str(search.highlight("<b>贮存</b>危险废物", "危险废物")) == "&lt;b&gt;贮存&lt;/b&gt;<mark>危险废物</mark>"
    marked = str(search.highlight('<script>alert("x")</script>', "script"))
    assert "<script" not in marked and marked.count("<mark>script</mark>") == 2
    assert str(search.highlight("Food ABC食品", "abc")) == "Food <mark>ABC</mark>食品"  # ASCII: whole words
    assert str(search.highlight("ABCD", "abc")) == "ABCD"


def test_a_hostile_query_is_shown_escaped(decisions):
    html = Client().get("/decisions/", {"q": '<script>alert(1)</script>危险废物'}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;危险废物" in html  # in the search box


def test_decisions_are_in_the_top_navigation(world):
    html = Client().get("/officers/").content.decode()
    nav = html[html.index('<nav class="nav">'):html.index("</nav>")]
    assert '<a href="/decisions/">执法决定</a>' in nav


def test_the_fine_is_a_fine_and_licence_content_is_not_penalty_content(decisions):
    listing = Client().get("/decisions/").content.decode()
    assert "罚款金额 80,000.00 元" in listing and "罚款金额 20,000.00 元" in listing
    penalty = Client().get(f"/decisions/{decisions['relevant_old'].pk}/").content.decode()
    assert "<dt>罚款金额</dt><dd>80,000.00 元</dd>" in penalty
    assert "<dt>没收违法所得、没收非法财物的金额</dt><dd>5,000.00 元</dd>" in penalty
    assert "<dt>处罚内容</dt>" in penalty
    licence = Client().get(f"/decisions/{decisions['licence'].pk}/").content.decode()
    assert "<dt>许可内容</dt>" in licence and "处罚内容" not in licence
