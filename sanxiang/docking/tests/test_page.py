"""The system administrator's docking page (/workbench/docking/)."""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sanxiang.conftest import client_for
from sanxiang.docking import services, webhooks
from sanxiang.docking.models import OutboxMessage, OutboxState

pytestmark = pytest.mark.django_db


@pytest.fixture
def docked(world, settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "k.pem")
    services.register_instance(actor="test", code="zhengding", name="正定县行政执法公示平台", regions=["130123"],
                               public_key=webhooks.public_key_text(Ed25519PrivateKey.generate()))
    services.configure_upstream(actor="test", url="http://127.0.0.1:9/api/v1/docking/messages", instance_code="hebei")
    return OutboxMessage.objects.create(msg_id="msg_1", event_type="officer.changed", object_type="officer",
                                        object_key="13012300990019", version=2, body="{}",
                                        state=OutboxState.UNDELIVERABLE, attempts=10, last_error="HTTP 503: 维护中")


def test_the_page_shows_the_upstream_the_key_the_failed_messages_and_the_trust_list_in_chinese(world, docked, no_totp):
    page = client_for(world.u_admin).get("/workbench/docking/")
    text = page.content.decode()
    assert page.status_code == 200
    for shown in ("平台对接", "上级平台", "hebei", "whpk_", "13012300990019", "第2版", "无法送达", "HTTP 503: 维护中",
                  "重新发送", "正定县行政执法公示平台", "正定县（130123）"):
        assert shown in text, shown
    visible = re.sub(r"<[^>]+>|<code>.*?</code>", " ", re.sub(r"<code[^>]*>.*?</code>", " ", text, flags=re.S))
    assert not re.search(r"\b(waiting|delivered|refused|undeliverable|Send again|Platform|version)\b", visible)
    assert 'href="/workbench/docking/"' in text  # in the navigation


def test_send_again_puts_the_message_back_in_the_queue_and_says_so(world, docked, no_totp,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        answer = client_for(world.u_admin).post("/workbench/docking/", {"message": docked.pk}, follow=True)
    docked.refresh_from_db()
    assert docked.state == OutboxState.PENDING and docked.attempts == 0
    assert "该消息已重新排队发送" in answer.content.decode()


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999999"])
def test_a_bad_message_id_is_a_clear_error_not_a_500(world, docked, no_totp, value):
    answer = client_for(world.u_admin).post("/workbench/docking/", {"message": value})
    assert answer.status_code in (400, 404)


def test_officers_and_supervisors_may_not_see_the_page(world, docked, no_totp):
    for user in (world.u_changan, world.u_legal_hebei):
        assert client_for(user).get("/workbench/docking/").status_code == 403
    assert client_for(world.u_changan).get("/workbench/").content.decode().count("/workbench/docking/") == 0


def test_the_administrators_to_do_list_names_the_undelivered_messages(world, docked, no_totp):
    text = client_for(world.u_admin).get("/workbench/").content.decode()
    assert "有 1 条报送上级平台的消息未送达" in text
