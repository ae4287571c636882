"""The alert rule "evaluation findings not rectified", on both sides of its
threshold (working days on the official calendar): none before the yellow
horizon, yellow within N working days of the deadline, red once it passed,
gone once the agency reported its rectification."""

from datetime import timedelta

import pytest

from sanxiang.core.calendar import add_working_days
from sanxiang.evaluation import services
from sanxiang.evaluation.alerts import CODE, rectification_candidates
from sanxiang.evaluation.demo import build_case_file
from sanxiang.evaluation.models import Rectification
from sanxiang.supervision.alerts import alert_rule, yellow_days
from sanxiang.supervision.models import Alert
from sanxiang.supervision.services import refresh_alerts


@pytest.fixture
def rectification(world, scheme):
    case = build_case_file(agency=world.amr_changan, officers=[world.changan_officer, world.changan_officer2],
                           creator=world.u_changan, flaw="av", serial=1)
    ev = services.start_evaluation(actor=world.u_legal_sjz, case=case, scheme=scheme)
    services.save_scores(actor=world.u_legal_sjz, evaluation=ev, submit=True,
                         scores={i.code: {"deduction": 0} for i in scheme.items.filter(auto_check="")}, vetoes={})
    return Rectification.objects.get(evaluation=ev)


def test_the_rule_is_registered_with_its_dated_threshold(rectification):
    assert alert_rule(CODE) is not None
    assert yellow_days(CODE, today=rectification.due_on) == 3


def test_findings_not_rectified_alert_yellow_within_n_working_days_and_red_after(rectification):
    due = rectification.due_on
    n = yellow_days(CODE, today=due)
    # the last day that is not yet yellow: due lies beyond today + N working days
    day = due - timedelta(days=1)
    while add_working_days(start=day, days=n).date >= due:
        day -= timedelta(days=1)
    assert list(rectification_candidates(today=day)) == []
    yellow_day = day + timedelta(days=1)
    while add_working_days(start=yellow_day, days=n).date < due:
        yellow_day += timedelta(days=1)
    [c] = list(rectification_candidates(today=yellow_day))
    assert c.due == due and c.object_url.endswith(f"/evaluation/rectifications/{rectification.pk}/")
    refresh_alerts(today=yellow_day)
    assert Alert.objects.get(rule=CODE).level == "yellow"
    refresh_alerts(today=due + timedelta(days=1))
    assert Alert.objects.get(rule=CODE).level == "red"


def test_a_reported_rectification_no_longer_alerts(rectification, world):
    from sanxiang.conftest import make_user
    from sanxiang.core.vocabulary import Role

    head = make_user("changan_head", Role.AGENCY_HEAD, agency=world.amr_changan)
    services.respond_rectification(actor=head, rectification=rectification, text="已补充音像记录说明。")
    assert list(rectification_candidates(today=rectification.due_on + timedelta(days=5))) == []
