"""The docking demo: a first login as the administrator shows a trust list
with what 正定县's platform sent (applied and refused)."""

import pytest
from django.test import Client

from sanxiang.conftest import client_for
from sanxiang.docking.demo import load_docking_demo
from sanxiang.docking.models import InboxMessage, Instance

pytestmark = pytest.mark.django_db


def test_the_demo_registers_the_county_platform_and_receives_its_signed_messages_once(world, no_totp):
    received = load_docking_demo()
    assert received == InboxMessage.objects.count() == 5  # the world has two officers in 正定县
    assert load_docking_demo() == 0  # once
    instance = Instance.objects.get(code="zhengding")
    assert list(instance.regions.values_list("code", flat=True)) == ["130123"]
    outcomes = sorted(InboxMessage.objects.values_list("outcome", flat=True))
    # 2 officers (one twice), one outside, the county agency's enforcement item list
    assert outcomes == ["applied", "applied", "applied", "applied", "refused"]
    world.zhengding_officer.refresh_from_db()
    assert world.zhengding_officer.post == "中队长"
    page = client_for(world.u_admin).get("/workbench/docking/").content.decode()
    assert "正定县行政执法公示平台" in page and "已生效 4 · 已拒收 1" in page
    # the received catalogue version is public at the province, naming its platform
    items = Client().get(f"/catalog/agency/{world.amr_zhengding.pk}/items/").content.decode()
    assert "对经营超过保质期的食品的行政处罚" in items and "来源：由下级平台“正定县行政执法公示平台”报送" in items
