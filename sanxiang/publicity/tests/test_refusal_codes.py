"""Every refusal of the publicity services carries a stable code and names
its field (a client acts on the code, the API answers {code, field, message}
with it instead of a bare "invalid"; the class is checked for all apps by
core/tests/test_refusal_codes.py); who may publish and withdraw is one
predicate (predicates.can_manage_publicity), and the pages show its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.core.refusals import Refused
from sanxiang.publicity import predicates, services
from sanxiang.publicity.models import Decision

from .test_publication import penalty, receive


@pytest.fixture
def publicity_admin(world):
    return core_services.create_user(actor="t", username="pub_changan", password=world.password,
                                     role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)


def refusal(fn, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    field, errors = next(iter(exc.value.error_dict.items()))
    return field, errors[0].code


def test_publish_and_withdraw_refusals_carry_their_codes(world, publicity_admin):
    hidden = Decision.objects.get(pk=receive(world, penalty("CF-2", is_minor=True))[0].decision_id)
    assert refusal(services.publish_decision, actor=publicity_admin, decision=hidden) == ("status", "not_public")
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    withdraw = {"actor": publicity_admin, "decision": decision, "ground": "revoked", "reason": "复议撤销"}
    assert refusal(services.withdraw_decision, **withdraw) == ("status", "not_published")
    services.publish_decision(actor=publicity_admin, decision=decision)
    assert refusal(services.publish_decision, actor=publicity_admin, decision=decision) == ("status", "not_pending")
    assert refusal(services.withdraw_decision, **{**withdraw, "ground": "whim"}) == ("ground", "invalid_choice")
    assert refusal(services.withdraw_decision, **{**withdraw, "reason": " "}) == ("reason", "required")
    tomorrow = clock.today() + timedelta(days=1)
    assert refusal(services.withdraw_decision, **withdraw, changed_on=tomorrow) == ("changed_on", "future")


def test_who_may_publish_is_one_predicate_with_a_code_and_the_page_shows_its_reason(world, publicity_admin):
    other = core_services.create_user(actor="t", username="pub_zd", password=world.password,
                                      role=Role.PUBLICITY_ADMIN, agency=world.amr_zhengding)
    decision = Decision.objects.get(pk=receive(world, penalty())[0].decision_id)
    verdict = predicates.can_manage_publicity(other, decision.agency, what="发布")
    assert not verdict and verdict.code == "forbidden" and "发布" in verdict.reason
    assert predicates.can_manage_publicity(publicity_admin, decision.agency)
    assert predicates.can_manage_publicity("system:loader", decision.agency)
    with pytest.raises(Refused) as exc:
        services.withdraw_decision(actor=other, decision=decision, ground="revoked", reason="x")
    assert exc.value.code == "forbidden"

    # the page: a refused publication shows the service's Chinese message
    client = Client()
    client.force_login(publicity_admin)
    hidden = Decision.objects.get(pk=receive(world, penalty("CF-2", is_minor=True))[0].decision_id)
    r = client.post(f"/workbench/publicity/{hidden.pk}/publish/", follow=True)
    assert "该决定依法不予公开" in r.content.decode()
