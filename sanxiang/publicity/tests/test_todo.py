"""Publicity's part of the to-do list (issue 11 item 5) and the overdue
withdrawals on the publicity workbench (item 4): the publicity administrator
sees each decision waiting for its pre-publication check, due on its
publication due date (公示-14), red once overdue; the legal office the
overdue publications of its jurisdiction; a withdrawal recorded after its
3-working-day due date is listed on the workbench — each within scope."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from sanxiang.conftest import client_for
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.core.todo import todo_for
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision

from .test_publication import penalty


@pytest.fixture
def admins(world):
    def admin(name, agency):
        return core_services.create_user(actor="t", username=name, password=world.password, role=Role.PUBLICITY_ADMIN,
                                         agency=agency)

    world.pub_changan = admin("pub_changan", world.amr_changan)
    world.pub_zhengding = admin("pub_zhengding", world.amr_zhengding)
    return world


def receive(agency, record) -> Decision:
    result = services.receive_records(actor="t", agency=agency, records=[record], source="api")[0]
    return Decision.objects.get(pk=result.decision_id)


def of_kind(user, kind, today):
    return [i for i in todo_for(user=user, today=today) if i.kind == kind]


def test_a_decision_to_check_is_on_its_agencys_list_until_published_and_red_once_overdue(admins):
    w = admins
    decision = receive(w.amr_changan, penalty("CF-1"))
    receive(w.amr_zhengding, penalty("ZD-2", doc_number="正市监罚〔2026〕2号"))
    url = reverse("publicity:private", kwargs={"pk": decision.pk})
    items = of_kind(w.pub_changan, "publication_check", date(2026, 10, 1))
    assert [(i.url, i.due, i.urgency) for i in items] == [(url, date(2026, 10, 15), "later")]
    assert [i.urgency for i in of_kind(w.pub_changan, "publication_check", date(2026, 10, 13))] == ["soon"]
    assert [i.urgency for i in of_kind(w.pub_changan, "publication_check", date(2026, 10, 16))] == ["overdue"]
    assert url not in {i.url for i in todo_for(user=w.pub_zhengding, today=date(2026, 10, 1))}
    # the legal office sees it once overdue, in its jurisdiction only
    assert not of_kind(w.u_legal_sjz, "publication_overdue", date(2026, 10, 1))
    assert url in {i.url for i in of_kind(w.u_legal_sjz, "publication_overdue", date(2026, 10, 16))}
    assert not of_kind(w.u_legal_ts, "publication_overdue", date(2026, 10, 16))

    services.publish_decision(actor=w.pub_changan, decision=decision)
    assert not of_kind(w.pub_changan, "publication_check", date(2026, 10, 16))


def test_a_withdrawal_recorded_after_its_due_date_is_listed_on_the_publicity_workbench(admins):
    w = admins
    decision = receive(w.amr_changan, penalty("CF-1"))
    on_time = receive(w.amr_changan, penalty("CF-3"))
    for d in (decision, on_time):
        services.publish_decision(actor=w.pub_changan, decision=d)
    # changed on Friday 2026-09-25: due Wednesday 2026-09-30, recorded today (late)
    services.withdraw_decision(actor=w.pub_changan, decision=decision, ground="changed", reason="复议变更",
                               changed_on=date(2026, 9, 25))
    services.withdraw_decision(actor=w.pub_changan, decision=on_time, ground="revoked", reason="撤销")
    page = client_for(w.pub_changan).get("/workbench/publicity/").content.decode()
    assert "逾期撤下" in page
    section = page.split('id="overdue-withdrawals"', 1)[1].split("</table>", 1)[0]
    assert decision.doc_number in section and "2026-09-30" in section
    assert on_time.doc_number not in section  # withdrawn within its 3 working days
    assert 'id="overdue-withdrawals"' not in client_for(w.pub_zhengding).get("/workbench/publicity/").content.decode()
