"""Schemes as versioned data: the demo scheme loads with its points matching
the dated rules; a loaded version is immutable; a new version supersedes it
from its valid_from; a bad file is refused naming the field."""

import shutil
from datetime import date

import pytest

from sanxiang.evaluation import schemes, services
from sanxiang.evaluation.models import Scheme
from sanxiang.rules import get_rule

DEMO = schemes.SCHEMES_DIR / "demo-penalty-2026-v1.yaml"


def test_the_demo_scheme_has_form_and_content_points_of_the_dated_rules_and_about_nine_vetoes():
    parsed = schemes.parse_scheme(DEMO)
    form = sum(i["points"] for i in parsed.items if i["section"] == "form")
    content = sum(i["points"] for i in parsed.items if i["section"] == "content")
    assert form == get_rule("supervision.case_file_form_points", on=parsed.valid_from).value == 20
    assert content == get_rule("supervision.case_file_content_points", on=parsed.valid_from).value == 80
    assert len(parsed.vetoes) == 9
    assert {v["effect"] for v in parsed.vetoes} == {"zero", "cap", "fixed"}
    assert {i["auto_check"] for i in parsed.items if i["auto_check"]} == {
        "officers", "deadlines", "documents", "av", "legal_review", "publication", "doc_number"}
    assert [g["name"] for g in parsed.grades] == ["优秀", "合格", "不合格"]


@pytest.mark.django_db
def test_loading_twice_stores_one_version_and_a_changed_file_is_refused(tmp_path):
    shutil.copy(DEMO, tmp_path / DEMO.name)
    [scheme] = services.load_schemes(actor="test", directory=tmp_path)
    assert (scheme.items.count(), scheme.vetoes.count(), scheme.grades.count()) == (14, 9, 3)
    assert services.load_schemes(actor="test", directory=tmp_path) == []
    text = (tmp_path / DEMO.name).read_text(encoding="utf-8").replace("{code: F1, section: form, title: 卷宗封面",
                                                                      "{code: F1, section: form, title: 案卷封面")
    (tmp_path / DEMO.name).write_text(text, encoding="utf-8")
    with pytest.raises(schemes.SchemeError, match="immutable"):
        services.load_schemes(actor="test", directory=tmp_path)
    assert Scheme.objects.count() == 1


@pytest.mark.django_db
def test_a_new_version_supersedes_the_old_one_from_its_valid_from(tmp_path, world):
    from sanxiang.evaluation.selectors import scheme_for
    from sanxiang.cases.models import Case

    shutil.copy(DEMO, tmp_path / DEMO.name)
    text = DEMO.read_text(encoding="utf-8").replace("version: 1", "version: 2").replace("valid_from: 2026-01-01",
                                                                                         "valid_from: 2026-07-01")
    (tmp_path / "demo-penalty-2026-v2.yaml").write_text(text, encoding="utf-8")
    services.load_schemes(actor="test", directory=tmp_path)
    case = Case(agency=world.amr_changan, act_kind="penalty", opened_on=date(2026, 3, 1), closed_on=date(2026, 6, 30))
    assert scheme_for(case).version == 1
    case.closed_on = date(2026, 7, 1)
    assert scheme_for(case).version == 2
    assert scheme_for(case, code="demo-penalty").version == 2


@pytest.mark.parametrize("change, field", [
    ("points: 5, deduct: [1, 5]}", "items"),  # F1 form points changed below: totals no longer 20
    ("effect: fixed, points: 20}", "vetoes[8].points"),
    ("check: doc_number}", "items[2].check"),
])
def test_a_bad_scheme_file_is_refused_naming_the_field(tmp_path, change, field):
    replacement = {"points: 5, deduct: [1, 5]}": "points: 6, deduct: [1, 5]}",
                   "effect: fixed, points: 20}": "effect: fixed, points: 0}",
                   "check: doc_number}": "check: horoscope}"}[change]
    text = DEMO.read_text(encoding="utf-8").replace(change, replacement, 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(schemes.SchemeError, match=field.replace("[", r"\[").replace("]", r"\]")):
        schemes.parse_scheme(path)
