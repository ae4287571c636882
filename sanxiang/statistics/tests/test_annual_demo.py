"""The demo holds a drafted 2026 annual report (issue 16 "Done when"): the
head's agency (石家庄市市场监督管理局) has its report drafted with the
manual figures and a 情况说明, not published; the legal office sees it as
drafted; the figures computed for it from the demo's records are not empty."""

from __future__ import annotations

import pytest

from sanxiang.core import clock
from sanxiang.core.models import User
from sanxiang.demo import build_demo
from sanxiang.statistics import annual, annual_status
from sanxiang.statistics.demo import demo_year, load_annual_demo
from sanxiang.statistics.models import AnnualReport, ReportStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path, no_totp, django_capture_on_commit_callbacks):
    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    settings.ARCHIVE_DIR = str(tmp_path / "archives")
    with django_capture_on_commit_callbacks(execute=True):
        build_demo()


def test_the_demo_has_a_drafted_2026_report_seen_as_drafted_by_the_legal_office(demo):
    head = User.objects.get(username="head")
    report = AnnualReport.objects.get(agency=head.agency, year=demo_year())
    assert demo_year() >= 2026 and report.status == ReportStatus.DRAFTED
    assert report.explanation and report.manual["reconsideration.count"]["value"] == "2"
    office = User.objects.get(username="legal_sjz")
    rows = annual_status.region_status(region=office.region, year=report.year, today=clock.today())
    [mine] = [r for r in rows if r.agency == head.agency]
    assert mine.code == (annual_status.LATE if clock.today() > mine.due else annual_status.DRAFTED)
    figures = annual.for_agencies([head.agency], year=report.year, today=clock.today())[head.agency.pk]
    assert figures.values["penalty.cases"] and figures.values["reviews.count"]
    assert load_annual_demo() is None  # loaded once
