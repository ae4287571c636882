"""Two live platforms: this test process is a county platform (the suite's
database: SQLite in the plain pass) and a province platform runs as a real
`sanxiang serve` subprocess on its own fresh PostgreSQL database (issue 13:
"county on SQLite, province on PostgreSQL") and its own data directory and
job queue. The county's officer list and decisions travel upward through
signed messages over HTTP (公示-18: 亮证 at the province verifies a county's
officer; 公示-17: a county's decision is searchable at the province); the
province's answers — applied, refused, 410 — and its absence are handled as
docs/docking.md says.

PostgreSQL at 127.0.0.1:5432 (user postgres, trust authentication, as on
CI) is required: without it these tests fail with a message saying so.
Each test's province gets a copy of a template database migrated once per
run; every database made is dropped at the end. Names start with the
suite's own PostgreSQL database name (or SANXIANG_TEST_PG_PREFIX, default
sx_docking_test) and the run's process id, so concurrent runs never meet."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import date, timedelta

import pytest
import requests
from django.utils import timezone

from sanxiang.conftest import client_for
from sanxiang.core import services as core_services
from sanxiang.core.models import OfficerStatus
from sanxiang.core.tests.test_serve_production import server_env, start
from sanxiang.core.validators import make_certificate_number
from sanxiang.docking import keys, services
from sanxiang.docking.models import OutboxMessage, OutboxState, Upstream

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess server")]

SEED = """
import json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")
django.setup()
from sanxiang.core import services
from sanxiang.core.models import Region
regions, agencies = json.loads(sys.argv[1])
for code, name, level, parent in regions:
    services.create_region(actor="seed", code=code, name=name, level=level,
                           parent=Region.objects.get(code=parent) if parent else None)
for name, credit_code, region, kind in agencies:
    services.create_agency(actor="seed", name=name, credit_code=credit_code,
                           region=Region.objects.get(code=region), kind=kind)
"""


def province_env(data_dir):
    """The province's own environment: its data directory and its own job
    queue (SQLite in its data directory). On a shared Redis queue its
    embedded consumer would take the county's delivery tasks."""
    env = server_env(data_dir)
    env.pop("SANXIANG_QUEUE_URL", None)
    env["SANXIANG_QUEUE_NAME"] = f"province-{os.getpid()}-{os.urandom(4).hex()}"
    return env


def _manage(env, *args):
    return subprocess.run([sys.executable, "-m", "sanxiang", *args], env=env, check=True, capture_output=True, text=True)


@pytest.fixture
def county_key(settings, tmp_path):
    settings.DOCKING_ED25519_KEY_FILE = str(tmp_path / "county-docking.pem")
    return keys.public_key()


PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as con:
        con.execute(sql)


def _pg_prefix() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url.rstrip("/").rpartition("/")[2].partition("?")[0]
    return os.environ.get("SANXIANG_TEST_PG_PREFIX", "sx_docking_test")


@pytest.fixture(scope="module")
def province_template(tmp_path_factory):
    """An empty PostgreSQL database for the province, migrated once for the
    module (each test's province gets a copy); dropped at the end."""
    try:
        _pg("SELECT 1")
    except Exception as exc:  # noqa: BLE001 (any reason PostgreSQL cannot be reached)
        pytest.fail(f"the province runs on PostgreSQL: none reachable at {PG_SERVER} ({exc}); start one "
                    "(user postgres, trust authentication, as on CI)", pytrace=False)
    name = f"{_pg_prefix()}_dk{os.getpid()}{secrets.token_hex(3)}"
    data_dir = tmp_path_factory.mktemp("province-template") / "data"
    data_dir.mkdir()
    _pg(f'CREATE DATABASE "{name}_tpl"')
    made = []
    try:
        _manage({**province_env(data_dir), "DATABASE_URL": f"{PG_SERVER}/{name}_tpl"}, "migrate", "--no-input",
                "-v", "0")

        def copy() -> str:
            copy_name = f"{name}_{len(made) + 1}"
            _pg(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}_tpl"')
            made.append(copy_name)
            return copy_name

        yield copy
    finally:
        for database in [*made, f"{name}_tpl"]:
            _pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def province(world, county_key, tmp_path, province_template):
    """The province, on its own fresh PostgreSQL database: the same regions
    and agencies as the county knows (a province registers every agency of
    its territory), 正定县's platform on its trust list, served on a free
    port."""
    data_dir = tmp_path / "province"
    data_dir.mkdir()
    env = {**province_env(data_dir), "DATABASE_URL": f"{PG_SERVER}/{province_template()}"}
    regions = [(r.code, r.name, r.level, r.parent.code if r.parent else None)
               for r in sorted([world.hebei, world.sjz, world.ts, world.changan, world.zhengding, world.lunan],
                               key=lambda r: len(r.path))]
    agencies = [(a.name, a.credit_code, a.region.code, a.kind) for a in (world.amr_zhengding, world.amr_lunan)]
    subprocess.run([sys.executable, "-c", SEED, json.dumps([regions, agencies])], env=env, check=True,
                   capture_output=True, text=True)
    _manage(env, "docking", "register", "zhengding", "--name", "正定县行政执法公示平台", "--key", county_key,
            "--region", "130123")
    proc, port, _ = start(data_dir, env=env)
    base = f"http://127.0.0.1:{port}"
    services.configure_upstream(actor="test", url=f"{base}/api/v1/docking/messages", instance_code="zhengding")
    state = {"proc": proc, "base": base, "env": env, "data_dir": data_dir}
    yield state
    if state["proc"].poll() is None:
        state["proc"].terminate()
        state["proc"].wait(timeout=30)


def _new_officer(world, agency, serial: int, name: str):
    return core_services.create_officer(
        actor="county-admin", name=name, agency=agency,
        certificate_number=make_certificate_number(agency.region.code, serial), categories=["penalty"],
        enforcement_region=agency.region, valid_from=date(2025, 1, 1), valid_to=date(2030, 12, 31), post="执法队员")


def test_a_county_officer_is_verifiable_at_the_province_and_a_suspension_follows(world, province,
                                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        officer = _new_officer(world, world.amr_zhengding, 501, "钱学敏")
    message = OutboxMessage.objects.get(object_key=officer.certificate_number)
    assert message.state == OutboxState.DELIVERED and message.last_status == 200, (message.state, message.attempts, message.last_error)
    page = requests.get(f"{province['base']}/verify/{officer.certificate_number}", timeout=10)
    assert page.status_code == 200 and "钱学敏" in page.text

    with django_capture_on_commit_callbacks(execute=True):
        core_services.set_officer_status(actor="county-admin", officer=officer, status=OfficerStatus.SUSPENDED,
                                         reason="涉嫌违纪，暂扣执法证")
    assert OutboxMessage.objects.filter(object_key=officer.certificate_number, version=2,
                                        state=OutboxState.DELIVERED).exists()
    page = requests.get(f"{province['base']}/verify/{officer.certificate_number}", timeout=10)
    assert "暂扣" in page.text


def test_an_officer_of_an_agency_outside_the_county_is_refused_and_listed_for_the_administrator(
        world, province, django_capture_on_commit_callbacks, no_totp):
    with django_capture_on_commit_callbacks(execute=True):
        officer = _new_officer(world, world.amr_lunan, 502, "郑不该")
    message = OutboxMessage.objects.get(object_key=officer.certificate_number)
    assert message.state == OutboxState.REFUSED and "out_of_scope" in message.last_error
    page = client_for(world.u_admin).get("/workbench/docking/")
    assert page.status_code == 200
    assert officer.certificate_number in page.content.decode() and "重新发送" in page.content.decode()
    assert requests.get(f"{province['base']}/verify/{officer.certificate_number}", timeout=10).status_code == 404


def test_while_the_province_is_down_nothing_is_lost_and_it_arrives_after_the_restart(
        world, province, django_capture_on_commit_callbacks):
    province["proc"].terminate()
    province["proc"].wait(timeout=30)
    with django_capture_on_commit_callbacks(execute=True):
        officer = _new_officer(world, world.amr_zhengding, 503, "冯耐心")
    message = OutboxMessage.objects.get(object_key=officer.certificate_number)
    assert message.state == OutboxState.PENDING and message.attempts == 1
    assert message.next_attempt_at >= timezone.now() + timedelta(seconds=3)  # the schedule's 5 s
    # Restart on another port (as systemd would on the same one), then the
    # retry comes due.
    proc, port, _ = start(province["data_dir"], env=province["env"])
    province["proc"] = proc
    Upstream.objects.update(url=f"http://127.0.0.1:{port}/api/v1/docking/messages")
    result = services.deliver_due(now=timezone.now() + timedelta(seconds=6))
    assert result.delivered == 1
    page = requests.get(f"http://127.0.0.1:{port}/verify/{officer.certificate_number}", timeout=10)
    assert page.status_code == 200 and "冯耐心" in page.text


def test_a_province_that_deactivated_the_county_answers_410_and_sending_stops_with_an_alert(
        world, province, django_capture_on_commit_callbacks, no_totp):
    _manage(province["env"], "docking", "deactivate", "zhengding")
    with django_capture_on_commit_callbacks(execute=True):
        officer = _new_officer(world, world.amr_zhengding, 504, "褚停止")
    upstream = Upstream.objects.get()
    assert not upstream.is_active and "410" in upstream.disabled_reason
    assert OutboxMessage.objects.get(object_key=officer.certificate_number).state == OutboxState.PENDING
    todo = client_for(world.u_admin).get("/workbench/").content.decode()
    assert "/workbench/docking/" in todo
    # Resumed from the page once the province takes messages again.
    _manage(province["env"], "docking", "activate", "zhengding")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.u_admin).post("/workbench/docking/", {"action": "enable"})
    assert Upstream.objects.get().is_active
    services.deliver_due(now=timezone.now() + timedelta(seconds=6))
    assert OutboxMessage.objects.get(object_key=officer.certificate_number).state == OutboxState.DELIVERED


def _decision(world, external_id: str, **overrides) -> dict:
    record = {
        "external_id": external_id, "kind": "penalty", "doc_number": f"正市监罚〔2026〕{external_id[-2:]}号",
        "party_name": "张建华", "party_type": "natural_person", "party_id_number": "11010519491231002X",
        "decision_date": "2026-11-20", "violation_type": "销售过期食品",
        "facts": "当事人张建华（身份证号11010519491231002X，电话13812345678）于2026年10月在正定县某市场销售超过保质期的食品。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        "penalty_categories": ["罚款"], "fine_fen": 300000, "content": "罚款人民币3000元。",
    }
    record.update(overrides)
    return record


def _publish_at_county(world, record: dict):
    from sanxiang.publicity import services as publicity_services
    from sanxiang.publicity.intake import validate_record
    from sanxiang.publicity.models import Decision

    validated, errors = validate_record(record, index=0)
    assert not errors, errors
    [result] = publicity_services.receive_records(actor="county-system", agency=world.amr_zhengding,
                                                  records=[validated], source="api")
    decision = Decision.objects.get(pk=result.decision_id)
    if decision.status == "pending":
        publicity_services.publish_decision(actor="county-admin", decision=decision, confirmed=True)
    return decision


def _province_search(province, q: str) -> list[dict]:
    """The province's public search API: the published decisions matching q."""
    answer = requests.get(f"{province['base']}/api/v1/publicity/search", params={"q": q}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_county_decision_published_corrected_and_withdrawn_follows_at_the_province_redacted(
        world, province, django_capture_on_commit_callbacks):
    from sanxiang.publicity import services as publicity_services

    with django_capture_on_commit_callbacks(execute=True):
        decision = _publish_at_county(world, _decision(world, "ZD-01"))
    message = OutboxMessage.objects.get(object_type="decision")
    assert message.state == OutboxState.DELIVERED, message.last_error
    [found] = _province_search(province, "正市监罚〔2026〕01号")
    assert found["doc_number"] == "正市监罚〔2026〕01号" and found["party_name"] == "张某某"
    assert found["agency_credit_code"] == world.amr_zhengding.credit_code
    shown = json.dumps(found, ensure_ascii=False)
    assert "11010519491231002X" not in shown and "13812345678" not in shown and "张建华" not in shown
    page = requests.get(f"{province['base']}/decisions/{found['id']}/", timeout=30)
    assert page.status_code == 200 and "正市监罚〔2026〕01号" in page.text

    with django_capture_on_commit_callbacks(execute=True):  # corrected at the county: corrected at the province
        _publish_at_county(world, _decision(world, "ZD-01", content="罚款人民币2000元。", fine_fen=200000,
                                            correction_reason="复议变更罚款数额"))
    [corrected] = _province_search(province, "正市监罚〔2026〕01号")
    assert corrected["id"] == found["id"] and corrected["data"]["fine_fen"] == 200000
    assert "2000元" in corrected["data"]["content"]

    with django_capture_on_commit_callbacks(execute=True):  # withdrawn at the county: withdrawn at the province
        decision.refresh_from_db()
        publicity_services.withdraw_decision(actor="county-admin", decision=decision, ground="revoked",
                                             reason="经行政复议，原处罚决定被撤销。")
    assert OutboxMessage.objects.filter(object_type="decision", state=OutboxState.DELIVERED).count() == 3
    assert _province_search(province, "正市监罚〔2026〕01号") == []
    withdrawn = requests.get(f"{province['base']}/decisions/withdrawn/", timeout=30).text
    assert "经行政复议，原处罚决定被撤销" in withdrawn


def test_a_decision_of_an_agency_outside_the_county_is_refused_at_the_province(
        world, province, django_capture_on_commit_callbacks):
    from sanxiang.publicity import services as publicity_services
    from sanxiang.publicity.intake import validate_record
    from sanxiang.publicity.models import Decision

    validated, _ = validate_record(_decision(world, "LN-01", doc_number="唐路市监罚〔2026〕1号"), index=0)
    with django_capture_on_commit_callbacks(execute=True):
        [result] = publicity_services.receive_records(actor="t", agency=world.amr_lunan, records=[validated], source="api")
        publicity_services.publish_decision(actor="t", decision=Decision.objects.get(pk=result.decision_id))
    message = OutboxMessage.objects.get(object_type="decision")
    assert message.state == OutboxState.REFUSED and "out_of_scope" in message.last_error
    assert _province_search(province, "唐路市监罚〔2026〕1号") == []


def _post_to_province(province, body: bytes, headers) -> requests.Response:
    return requests.post(f"{province['base']}/api/v1/docking/messages", data=body, timeout=30,
                         headers={**headers.as_dict(), "Content-Type": "application/json"})


def test_at_the_province_a_replayed_message_has_no_effect_a_stale_version_is_ignored_and_a_forged_one_refused(
        world, province, django_capture_on_commit_callbacks):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sanxiang.core.chainformat import canonical_json
    from sanxiang.docking import webhooks

    with django_capture_on_commit_callbacks(execute=True):
        _publish_at_county(world, _decision(world, "ZD-02", doc_number="正市监罚〔2026〕02号"))
    with django_capture_on_commit_callbacks(execute=True):  # version 2: the province holds it
        _publish_at_county(world, _decision(world, "ZD-02", doc_number="正市监罚〔2026〕02号", content="罚款人民币2000元。",
                                            fine_fen=200000, correction_reason="复议变更罚款数额"))
    first, second = OutboxMessage.objects.filter(object_type="decision").order_by("version")
    assert (first.state, second.state) == (OutboxState.DELIVERED, OutboxState.DELIVERED), second.last_error
    [held] = _province_search(province, "正市监罚〔2026〕02号")
    assert held["data"]["fine_fen"] == 200000
    signing = keys.signing_keys()

    # The county's first message sent again (a replay, freshly timestamped as
    # an attacker or a confused sender would): answered as before, no effect.
    body = first.body.encode()
    replay = _post_to_province(province, body, webhooks.sign(msg_id=first.msg_id, body=body, keys=signing))
    assert replay.status_code == 200 and replay.json()["duplicate"] is True, replay.text
    [after] = _province_search(province, "正市监罚〔2026〕02号")
    assert after["data"]["fine_fen"] == 200000 and after["id"] == held["id"]

    # A message the province has not seen carrying version 1 after version 2:
    # acknowledged and ignored.
    payload = json.loads(first.body)
    payload["type"] = "decision.withdrawn"
    payload["data"]["object"] = {**payload["data"]["object"], "status": "withdrawn",
                                 "withdrawal": {"ground": "revoked", "reason": "迟到的旧版本。", "changed_on": "2026-11-30"}}
    stale_body = canonical_json(payload).encode()
    stale_id = webhooks.message_id("zhengding", "decision", first.object_key, 1, "decision.withdrawn")
    stale = _post_to_province(province, stale_body, webhooks.sign(msg_id=stale_id, body=stale_body, keys=signing))
    assert stale.status_code == 200 and stale.json() == {"outcome": "stale", "held_version": 2}, stale.text
    assert [r["id"] for r in _province_search(province, "正市监罚〔2026〕02号")] == [held["id"]]

    # Forged: a version 3 withdrawing it, signed by a key the province does
    # not trust; and the county's own signature over a body changed on the way.
    payload["data"]["version"] = 3
    forged_body = canonical_json(payload).encode()
    forged_id = webhooks.message_id("zhengding", "decision", first.object_key, 3, "decision.withdrawn")
    forged = _post_to_province(province, forged_body,
                               webhooks.sign(msg_id=forged_id, body=forged_body, keys=[Ed25519PrivateKey.generate()]))
    assert forged.status_code == 401 and forged.json()["code"] == "bad_signature", forged.text
    tampered = _post_to_province(province, forged_body.replace("迟到".encode(), "伪造".encode()),
                                 webhooks.sign(msg_id=forged_id, body=forged_body, keys=signing))
    assert tampered.status_code == 401 and tampered.json()["code"] == "bad_signature", tampered.text
    assert [r["id"] for r in _province_search(province, "正市监罚〔2026〕02号")] == [held["id"]]
