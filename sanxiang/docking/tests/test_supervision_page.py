"""The supervision page of every docked platform's and case system's
reconciliation, lag and backlog (/workbench/docking/supervision/; issue 13
items 5 and 6): who may see it, what it shows, its to-do items."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from sanxiang.api.models import PushReceipt
from sanxiang.api.services import create_token
from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.docking import selectors, services, webhooks
from sanxiang.docking.models import InboxMessage, Instance, Reconciliation, ReconciliationOutcome

pytestmark = pytest.mark.django_db

URL = "/workbench/docking/supervision/"


@pytest.fixture
def supervised(world):
    """正定县's platform, reconciled three days ago with a difference left,
    with four messages of the last day (lags 2, 4, 6 and 60 s); 长安区's case
    system with a signed push 3 s late and an unpublished record."""
    now = timezone.now()
    instance = services.register_instance(actor="test", code="zhengding", name="正定县行政执法公示平台",
                                          regions=["130123"],
                                          public_key=webhooks.public_key_text(Ed25519PrivateKey.generate()))
    Instance.objects.filter(pk=instance.pk).update(last_message_at=now, registered_at=now - timedelta(days=10))
    for n, lag in enumerate((2, 4, 6, 60)):
        row = InboxMessage.objects.create(instance=instance, msg_id=f"msg_{n}", object_type="officer",
                                          object_key=f"k{n}", version=1, outcome="applied",
                                          published_at=now - timedelta(minutes=10 - n, seconds=lag))
        InboxMessage.objects.filter(pk=row.pk).update(received_at=now - timedelta(minutes=10 - n))
    rec = Reconciliation.objects.create(instance=instance, run_id="rec_1", outcome=ReconciliationOutcome.UNREPAIRED,
                                        buckets=12, source_objects=340, differing=2, requested=1, remaining=1,
                                        backlog_waiting=7, backlog_oldest_at=now - timedelta(hours=1))
    Reconciliation.objects.filter(pk=rec.pk).update(started_at=now - timedelta(days=3))
    token, _ = create_token(actor="test", agency=world.amr_changan, name="长安区案件系统", scopes=["publicity:push"])
    PushReceipt.objects.create(token=token, endpoint="publicity.decisions", webhook_id="msg_c1", signed=True,
                               sent_at=now - timedelta(seconds=3), records=2, status=200, answer={})
    PushReceipt.objects.filter(token=token).update(received_at=now)
    return instance


def visible_text(html: str) -> str:
    """The page's own content (the navigation is other apps' business)."""
    html = html[html.index("<main"):html.index("</main>")]
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<code[^>]*>.*?</code>|<[^>]+>", " ", html, flags=re.S)


def test_the_administrator_and_the_provinces_legal_office_see_every_platforms_state_in_chinese(
        world, supervised, no_totp):
    for user in (world.u_admin, world.u_legal_hebei):
        page = client_for(user).get(URL)
        assert page.status_code == 200
        text = page.content.decode()
        for shown in ("对接监督", "正定县行政执法公示平台", "差异未能修复", "12 个分组", "2 个不一致", "1 个对象已重新发送",
                      "1 个仍不一致", "7 条消息待发送", "超过两天未对账", "长安区案件系统", "1（1 个已签名）", "3.0 秒"):
            assert shown in text, (user.username, shown)
        assert not re.findall(r"\b[A-Za-z]{4,}\b", visible_text(text))
    back = client_for(world.u_legal_hebei).get(URL).content.decode()
    assert 'href="/workbench/">← 返回工作台' in back  # the legal office's way back: its workbench (not the 403 above)


def test_the_lag_figures_are_the_median_the_95th_percentile_and_the_newest(world, supervised):
    row = selectors.supervision_for(user=world.u_admin).instances[0]
    assert (row.lag.count, row.lag.p50, row.lag.p95, row.lag.newest) == (4, 4.0, 60.0, 60.0)
    assert row.backlog_waiting == 7 and row.overdue and row.unrepaired


def test_a_city_legal_office_and_an_officer_get_403_and_no_link(world, supervised, no_totp):
    for user in (world.u_legal_sjz, world.u_changan):
        assert client_for(user).get(URL).status_code == 403
        assert URL not in client_for(user).get("/workbench/").content.decode()
    for user in (world.u_legal_hebei, world.u_admin):
        assert URL in client_for(user).get("/workbench/").content.decode()  # navigation and to-do


def test_the_supervisors_to_do_names_a_platform_not_reconciled_and_one_left_with_differences(world, supervised):
    items = selectors.supervision_todo(user=world.u_legal_hebei, today=clock.today())
    assert {item.kind for item in items} == {"docking_not_reconciled", "docking_unrepaired"}
    assert selectors.supervision_todo(user=world.u_legal_sjz, today=clock.today()) == []
    Reconciliation.objects.update(started_at=timezone.now(), outcome=ReconciliationOutcome.AGREED)
    assert selectors.supervision_todo(user=world.u_admin, today=clock.today()) == []


def test_reconcile_now_on_the_docking_page_is_queued_for_the_administrator_and_said_in_chinese(
        world, no_totp, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "k.pem")
    services.configure_upstream(actor="test", url="https://hebei.example.gov.cn/api/v1/docking/messages",
                                instance_code="zhengding")
    page = client_for(world.u_admin).get("/workbench/docking/").content.decode()
    assert "尚未对账" in page and "立即对账" in page and URL in page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client_for(world.u_admin).post("/workbench/docking/", {"action": "reconcile"}, follow=True)
    assert len(callbacks) == 1  # docking.reconcile_now, enqueued on commit
    assert "与上级平台的对账已排队" in answer.content.decode()
