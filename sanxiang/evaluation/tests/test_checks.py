"""Each automatic item on a case file built to pass and on one built to fail
it (evaluation/demo.py builds both, the demo loads them too)."""

import pytest

from sanxiang.core import clock
from sanxiang.evaluation.checks import CHECKS, run_check
from sanxiang.evaluation.demo import FLAWS, build_case_file


@pytest.fixture
def files(world):
    officers = [world.changan_officer, world.changan_officer2]
    built = {flaw: build_case_file(agency=world.amr_changan, officers=officers, creator=world.u_changan, flaw=flaw, serial=n)
             for n, flaw in enumerate((None, *FLAWS), start=1)}
    return built


def test_the_sound_file_passes_every_automatic_item_with_its_evidence_linked(files):
    for code in CHECKS:
        check = run_check(code, files[None])
        assert check.passed, (code, check.finding)
        if check.applicable:
            assert check.links and all(link["url"].startswith("/") and link["label"] for link in check.links), code


@pytest.mark.parametrize("flaw", FLAWS)
def test_a_file_built_to_fail_an_item_fails_it_with_a_finding_and_a_link(files, flaw):
    check = run_check(flaw, files[flaw])
    assert not check.passed and check.applicable
    assert check.finding and check.links
    others = [code for code in CHECKS if code != flaw and not run_check(code, files[flaw]).passed]
    # each file fails its own item only (a decision without 文号 cannot be published either)
    assert others == (["publication"] if flaw == "doc_number" else [])


def test_findings_name_what_is_wrong(files):
    today = clock.today()
    assert "少于2人" in run_check("officers", files["officers"], today=today).finding
    assert "超过法定期限" in run_check("deadlines", files["deadlines"], today=today).finding
    assert "告知" in run_check("documents", files["documents"], today=today).finding
    assert "调查取证" in run_check("av", files["av"], today=today).finding
    assert "重大执法决定" in run_check("legal_review", files["legal_review"], today=today).finding
    assert "尚未公示" in run_check("publication", files["publication"], today=today).finding
    assert "没有文号" in run_check("doc_number", files["doc_number"], today=today).finding
