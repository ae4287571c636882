"""The task table's demo on the real demo data: rolled out for 河北省 with
tasks done (with evidence), in progress and overdue; the demo province
legal office's first page after login leads to the matrix."""

import pytest

from sanxiang.catalog.demo import load_catalogue_demo
from sanxiang.conftest import client_for
from sanxiang.core.demo import load_demo
from sanxiang.core.models import User
from sanxiang.measures import selectors
from sanxiang.measures.demo import load_measures_demo
from sanxiang.measures.models import FilingStatus, TaskState, TaskStatus

pytestmark = pytest.mark.django_db


def test_the_demo_matrix_has_tasks_done_in_progress_and_overdue(no_totp):
    load_demo()
    load_catalogue_demo()
    assert load_measures_demo() > 100
    assert load_measures_demo() == 0  # once
    province = User.objects.get(username="legal_hebei")
    m = selectors.matrix(user=province)
    assert m.counts[TaskStatus.DONE] >= 6 and m.counts[TaskStatus.IN_PROGRESS] >= 3 and m.counts[TaskStatus.OVERDUE] >= 50
    assert len(m.rows) > 20 and len(m.measures) == 40
    head = User.objects.get(username="head")
    done = {t.measure_code for t, s in selectors.unit_tasks(user=head) if s == TaskStatus.DONE}
    assert {"公示-3", "公示-6", "公示-7", "记录-4"} <= done
    waiting = [t for t, _s in selectors.unit_tasks(user=head) if t.state == TaskState.SUBMITTED]
    assert [t.measure_code for t in waiting] == ["公示-5"]
    av = next(t for t, _s in selectors.unit_tasks(user=head) if t.measure_code == "记录-4")
    assert av.filing.status == FilingStatus.FILED and av.evidence.filter(kind="platform").exists()
    # the province's first page: its to-do list leads to the matrix, and the navigation too
    workbench = client_for(province).get("/workbench/").content.decode()
    assert 'href="/measures/?status=overdue"' in workbench and 'href="/measures/"' in workbench
    page = client_for(province).get("/measures/").content.decode()
    assert "石家庄市市场监督管理局" in page and 'data-status="overdue"' in page and 'data-status="done"' in page
    # the city's legal office has 公示-5 to accept
    city = User.objects.get(username="legal_sjz")
    assert any(i.kind == "measures.accept" for i in selectors.todo(user=city, today=selectors.clock.today()))
