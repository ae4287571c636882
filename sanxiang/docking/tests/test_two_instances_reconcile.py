"""Reconciliation between two live platforms (issue 13 item 5): the county
is this test process, the province a `sanxiang serve` subprocess on its own
PostgreSQL database (fixtures of test_two_instances.py). The province
loses a decision it had received — deleted with its held version, as a
restore from an older backup would, its inbox rows kept — and the county's
reconciliation, over real HTTP, sends it again: searchable at the province
once more."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sanxiang.docking import reconcile
from sanxiang.docking.models import OutboxMessage, OutboxState

from .test_two_instances import (_decision, _province_search, _publish_at_county, county_key, province,
                                 province_template)

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess server")]
assert county_key and province and province_template  # fixtures, used by name

LOSE = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
django.setup()
from sanxiang.docking.models import InboxMessage, ReceivedObject
from sanxiang.publicity.models import Decision
external_id, key = sys.argv[1], sys.argv[2]
assert Decision.objects.filter(external_id=external_id).delete()[0]
assert ReceivedObject.objects.filter(object_key=key).delete()[0]
assert InboxMessage.objects.filter(object_key=key).exists()  # the inbox row of the original message stays
"""


def test_a_decision_the_province_lost_is_searchable_again_after_the_countys_reconciliation(
        world, province, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _publish_at_county(world, _decision(world, "ZD-71"))
    message = OutboxMessage.objects.get(object_type="decision")
    assert message.state == OutboxState.DELIVERED, (message.state, message.last_error)
    assert _province_search(province, "正市监罚〔2026〕71号")
    assert reconcile.run(actor="test").outcome == "agreed"

    subprocess.run([sys.executable, "-c", LOSE, "ZD-71", message.object_key], env=province["env"], check=True,
                   capture_output=True, text=True)
    assert not _province_search(province, "正市监罚〔2026〕71号")

    result = reconcile.run(actor="test")
    assert (result.outcome, result.differing, result.resent, result.outcomes) == ("repaired", 1, 1, {"applied": 1})
    assert _province_search(province, "正市监罚〔2026〕71号")
    assert reconcile.run(actor="test").outcome == "agreed"
