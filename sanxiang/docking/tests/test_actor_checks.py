"""Every docking service that changes the trust list or the sending side
asks who acts first: system administrators and the operator's console
only (docking/predicates.py)."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from sanxiang.conftest import services_taking_an_actor
from sanxiang.core.models import AuditEntry
from sanxiang.docking import services, webhooks
from sanxiang.docking.models import OutboxMessage, OutboxState

pytestmark = pytest.mark.django_db


def _arguments(name, world):
    instance = services.register_instance(actor="test", code="zd", name="正定", regions=["130123"],
                                          public_key=webhooks.public_key_text(Ed25519PrivateKey.generate()))
    message = OutboxMessage.objects.create(msg_id="msg_x", event_type="officer.changed", object_type="officer",
                                           object_key="k", version=1, body="{}", state=OutboxState.UNDELIVERABLE)
    if name == "enable_upstream":
        services.configure_upstream(actor="test", url="http://127.0.0.1:9/api/v1/docking/messages", instance_code="zd")
    return {
        "register_instance": dict(code="other", name="别处", regions=["130102"],
                                  public_key=webhooks.public_key_text(Ed25519PrivateKey.generate())),
        "add_instance_key": dict(instance=instance, public_key=webhooks.public_key_text(Ed25519PrivateKey.generate())),
        "set_instance_active": dict(instance=instance, active=False),
        "configure_upstream": dict(url="http://127.0.0.1:9/api/v1/docking/messages", instance_code="zd"),
        "enable_upstream": {},
        "retry_message": dict(message=message),
    }[name]


NAMES = ["register_instance", "add_instance_key", "set_instance_active", "configure_upstream", "enable_upstream",
         "retry_message"]


def test_the_list_of_docking_services_that_take_an_actor_is_complete():
    assert set(services_taking_an_actor(services)) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_anyone_but_an_administrator_is_refused_before_anything_is_written(world, name, settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "k.pem")
    arguments = _arguments(name, world)
    before = AuditEntry.objects.count()
    for actor in (None, AnonymousUser(), world.u_changan, world.u_legal_hebei):
        with pytest.raises(PermissionDenied):
            services_taking_an_actor(services)[name](actor=actor, **arguments)
    assert AuditEntry.objects.count() == before
    services_taking_an_actor(services)[name](actor=world.u_admin, **arguments)
    assert AuditEntry.objects.count() == before + 1
