"""`sanxiang evaluate case … --format json`, the same through the API for
evaluators, and the pages: create, draw, score (automatic items with their
evidence links, manual items in range), result, rectification."""

import io
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from sanxiang.cases.models import Case
from sanxiang.conftest import client_for, make_user
from sanxiang.core import clock
from sanxiang.core.vocabulary import Role
from sanxiang.evaluation import services
from sanxiang.evaluation.demo import build_case_file
from sanxiang.evaluation.models import Assignment, Campaign, Evaluation, Rectification

KEYS = {"case", "scheme", "score", "grade", "vetoes", "items"}


def _cli(*args) -> dict:
    out = io.StringIO()
    call_command("evaluate", *args, stdout=out)
    text = out.getvalue()
    assert text.count("\n") == 1  # exactly one JSON object, one line
    return json.loads(text)


@pytest.fixture
def files(world, scheme):
    officers = [world.changan_officer, world.changan_officer2]
    return {flaw: build_case_file(agency=world.amr_changan, officers=officers, creator=world.u_changan, flaw=flaw, serial=n)
            for n, flaw in enumerate((None, "legal_review"), start=1)}


def test_the_cli_prints_one_json_object_of_the_published_shape(files):
    result = _cli("case", "--case", str(files[None].pk), "--format", "json")
    assert set(result) == KEYS and result["case"] == files[None].pk and result["scheme"] == "demo-penalty@1"
    assert all(set(item) == {"code", "points", "automatic", "finding"} for item in result["items"])
    auto = {i["code"]: i for i in result["items"] if i["automatic"]}
    assert set(auto) == {"F3", "F5", "C1", "C4", "C5", "C6", "C9"} and all(i["points"] > 0 for i in auto.values())
    manual = [i for i in result["items"] if not i["automatic"]]
    assert manual and all(i["points"] is None for i in manual)  # not scored yet
    assert result["score"] is None and result["grade"] == "" and result["vetoes"] == []


def test_the_cli_reports_an_automatic_veto_and_the_scheme_asked(files):
    result = _cli("case", "--case", str(files["legal_review"].pk), "--scheme", "demo-penalty", "--format", "json")
    assert result["vetoes"] == ["V6"]
    assert [i["points"] for i in result["items"] if i["code"] == "C6"] == [0]


def test_the_cli_answers_a_submitted_evaluation_with_score_and_grade(files, world, scheme):
    ev = services.start_evaluation(actor=world.u_legal_sjz, case=files[None], scheme=scheme)
    services.save_scores(actor=world.u_legal_sjz, evaluation=ev, submit=True,
                         scores={i.code: {"deduction": 0} for i in scheme.items.filter(auto_check="")},
                         vetoes={"V1": "超越法定职权。"})
    result = _cli("case", "--case", str(files[None].pk), "--format", "json")
    assert (result["score"], result["grade"], result["vetoes"]) == (0.0, "不合格", ["V1"])


@pytest.mark.parametrize("args, fragment", [
    (["--case", "999999"], "no case"), (["--case", "abc"], "no case"), (["--scheme", "no-such"], "no-such")])
def test_the_cli_exits_2_naming_an_unknown_case_or_scheme(files, args, fragment):
    if "--case" not in args:
        args = ["--case", str(files[None].pk), *args]
    with pytest.raises(CommandError, match=fragment) as exc:
        call_command("evaluate", "case", *args, "--format", "json", stdout=io.StringIO())
    assert exc.value.returncode == 2


def test_the_api_answers_evaluators_and_404s_everyone_else(files, world, no_totp):
    url = f"/api/v1/evaluation/cases/{files[None].pk}"
    r = client_for(world.u_legal_sjz).get(url)
    assert r.status_code == 200 and set(r.json()) == KEYS
    assert r.json()["items"] == _cli("case", "--case", str(files[None].pk), "--format", "json")["items"]
    for user in (world.u_legal_ts, world.u_changan, world.u_zhengding):  # other region; own agency (回避); not assigned
        assert client_for(user).get(url).status_code == 404, user.username
    assert client_for(world.u_legal_sjz).get(url + "?scheme=nope").json()["code"] == "scheme_not_found"
    assert client_for(world.u_legal_sjz).get("/api/v1/evaluation/cases/abc").status_code in (400, 404, 422)


def test_the_pages_create_draw_score_submit_and_rectify(files, world, scheme, no_totp):
    # only the sound file closed in the period: the drawn case is known whatever the ids
    Case.objects.filter(pk=files["legal_review"].pk).update(closed_on=date(clock.today().year - 1, 12, 31))
    office = client_for(world.u_legal_sjz)
    assert office.get("/evaluation/").status_code == 200
    assert office.get("/evaluation/campaigns/new/").status_code == 200
    bad = office.post("/evaluation/campaigns/new/", {"title": "", "scheme": scheme.pk})
    assert bad.status_code == 400
    evaluator = make_user("zd_reviewer", Role.LEGAL_REVIEWER, agency=world.amr_zhengding)
    r = office.post("/evaluation/campaigns/new/", {
        "title": "页面评查", "scheme": scheme.pk, "period_start": f"{clock.today().year}-01-01",
        "period_end": clock.today().isoformat(), "sample_size": "1", "evaluators_per_case": "1",
        "agencies": [world.amr_changan.pk], "evaluators": [evaluator.pk]})
    campaign = Campaign.objects.get(title="页面评查")
    assert r.status_code == 302 and r["Location"].endswith(f"/evaluation/campaigns/{campaign.pk}/")
    office.post(f"/evaluation/campaigns/{campaign.pk}/", {"action": "draw", "seed_value": "page-seed"})
    a = Assignment.objects.get(campaign=campaign)
    assert a.case == files[None]
    page = office.get(f"/evaluation/campaigns/{campaign.pk}/").content.decode()
    assert "page-seed" in page and a.case.title in page

    client = client_for(evaluator)
    url = f"/evaluation/campaigns/{campaign.pk}/cases/{a.case_id}/"
    page = client.get(url).content.decode()
    # automatic items name their evidence; the case's own pages are outside a cross-evaluator's jurisdiction,
    # so the names are not links for them (no dead link) — the office opens them
    assert "C1" in page and f"案件 #{a.case_id}" in page and f"/workbench/cases/{a.case_id}/" not in page
    assert not Evaluation.objects.exists()  # a read writes nothing
    form = {f"deduction_{i.code}": "0" for i in scheme.items.filter(auto_check="")}
    r = client.post(url, {**form, "deduction_C3": "99", "action": "submit"})
    assert r.status_code == 400 and "C3" in r.content.decode()
    r = client.post(url, {**form, "deduction_C3": "4", "finding_C3": "引用条款不准确。", "veto_V8": "1",
                          "veto_note_V8": "缺少调查终结报告。", "action": "submit"})
    ev = Evaluation.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/evaluation/evaluations/{ev.pk}/")
    page = client.get(r["Location"]).content.decode()
    assert "96" in page and "合格" in page  # 100 − 4, grade capped at 合格 by V8
    assert f"/workbench/cases/{a.case_id}/" in office.get(r["Location"]).content.decode()
    assert client_for(world.u_zhengding).get(url).status_code == 404  # not assigned

    rect = Rectification.objects.get(evaluation=ev)
    head = make_user("changan_head", Role.AGENCY_HEAD, agency=world.amr_changan)
    client_for(head).post(f"/evaluation/rectifications/{rect.pk}/", {"action": "respond", "text": "已补充调查终结报告。"})
    office.post(f"/evaluation/rectifications/{rect.pk}/", {"action": "accept", "text": ""})
    rect.refresh_from_db()
    assert rect.status == "accepted"
    assert client_for(world.u_zhengding).get(f"/evaluation/rectifications/{rect.pk}/").status_code == 404
