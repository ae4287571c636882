"""The docking benchmark's Django side (bench/docking.py), run as a
subprocess with one platform's environment:

    python -m bench.docking_world seed ROLE OUT.json [RECORDS.json N RUN_ID]
        the regions 河北省 / 石家庄市 / 长安区 and the county's market
        regulation agency (every platform registers the agencies of its
        territory), through the services; at the county (with RECORDS.json)
        also automatic publication, a push token (publicity:push) and N
        generated push records (keys unique to the run, all decided today)
    python -m bench.docking_world published KEYS.json
        at the county: when each record was published (Unix seconds), one
        JSON line
    python -m bench.docking_world waiting KEYS.json
        records among KEYS whose message still waits in this platform's
        outbox (pending or undeliverable): late, not lost; one JSON line
    python -m bench.docking_world check KEYS.json
        at the province: rows and versions per record (duplicates), one
        JSON line
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count, Min  # noqa: E402

from sanxiang.core import services as core_services  # noqa: E402
from sanxiang.core.models import Agency, AgencyKind  # noqa: E402
from sanxiang.core.validators import make_credit_code  # noqa: E402
from sanxiang.publicity.models import Decision, DecisionVersion, PublicDecision  # noqa: E402

ACTOR = "bench:docking"
AGENCY_CODE = make_credit_code(region_code="130102", serial=4343)
AGENCY_NAME = "石家庄市长安区市场监督管理局"


def seed(role: str, out: Path, records_file: Path | None, n: int, run_id: str) -> None:
    province = core_services.create_region(actor=ACTOR, code="130000", name="河北省", level="province")
    city = core_services.create_region(actor=ACTOR, code="130100", name="石家庄市", level="city", parent=province)
    county = core_services.create_region(actor=ACTOR, code="130102", name="长安区", level="county", parent=city)
    agency = core_services.create_agency(actor=ACTOR, name=AGENCY_NAME, credit_code=AGENCY_CODE, region=county,
                                         kind=AgencyKind.MARKET_REGULATION)
    world = {"role": role, "agency": agency.credit_code, "agency_id": agency.pk}
    if records_file is not None:
        from sanxiang.api.services import create_token
        from sanxiang.publicity.generator import generate_records
        from sanxiang.publicity.services import set_auto_publish

        set_auto_publish(actor=ACTOR, agency=agency, enabled=True)
        _, world["push_token"] = create_token(actor=ACTOR, agency=agency, name="docking bench push",
                                              scopes=["publicity:push"])
        records = generate_records(n, seed=int(run_id[-8:]), prefix=f"DK{run_id}", agency_name=AGENCY_NAME,
                                   abbr="石长市监", regions=["130102"], days_back=1)
        records_file.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    out.write_text(json.dumps(world), encoding="utf-8")


def published(keys_file: Path) -> dict:
    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    agency = Agency.objects.get(credit_code=AGENCY_CODE)
    rows = Decision.objects.filter(agency=agency, external_id__in=keys, published_at__isnull=False)
    return {external_id: at.timestamp() for external_id, at in rows.values_list("external_id", "published_at")}


def waiting(keys_file: Path) -> dict:
    """Records among the keys still waiting in this platform's outbox, and
    those the platform above refused (listed for the administrator)."""
    from sanxiang.docking.models import OutboxMessage, OutboxState

    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    object_keys = {f"{AGENCY_CODE}/{k}": k for k in keys}
    rows = (OutboxMessage.objects.filter(object_type="decision", object_key__in=list(object_keys))
            .exclude(state=OutboxState.DELIVERED).values_list("object_key", "state", "last_error"))
    out = {"waiting": set(), "refused": {}}
    for key, state, error in rows:
        if state == OutboxState.REFUSED:
            out["refused"][object_keys[key]] = error[:200]
        else:
            out["waiting"].add(object_keys[key])
    return {"waiting": sorted(out["waiting"]), "refused": out["refused"]}


def check(keys_file: Path) -> dict:
    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    agency = Agency.objects.get(credit_code=AGENCY_CODE)
    rows = Decision.objects.filter(agency=agency, external_id__in=keys)
    per_key = dict(rows.values("external_id").annotate(n=Count("id")).values_list("external_id", "n"))
    versions = dict(DecisionVersion.objects.filter(decision__agency=agency, decision__external_id__in=keys)
                    .values("decision__external_id").annotate(n=Count("id"))
                    .values_list("decision__external_id", "n"))
    public = (PublicDecision.objects.filter(agency=agency, decision__external_id__in=keys)
              .values("decision__external_id").annotate(n=Count("id")).values_list("decision__external_id", "n"))
    public = dict(public)
    received = dict(rows.values("external_id").annotate(at=Min("received_at")).values_list("external_id", "at"))
    return {
        "stored": len(per_key), "public": len(public),
        "received_at": {key: at.timestamp() for key, at in received.items()},  # first stored here (Unix seconds)
        "extra_rows": sum(n - 1 for n in per_key.values() if n > 1),
        "extra_versions": sum(n - 1 for n in versions.values() if n > 1),
        "extra_public": sum(n - 1 for n in public.values() if n > 1),
        "missing": sorted(set(keys) - set(per_key)),
    }


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "seed":
        records = Path(sys.argv[4]) if len(sys.argv) > 4 else None
        seed(sys.argv[2], Path(sys.argv[3]), records, int(sys.argv[5]) if records else 0,
             sys.argv[6] if records else "0")
    elif command == "published":
        print(json.dumps(published(Path(sys.argv[2]))))
    elif command == "waiting":
        print(json.dumps(waiting(Path(sys.argv[2]))))
    elif command == "check":
        print(json.dumps(check(Path(sys.argv[2]))))
    else:
        sys.exit(f"unknown command {command!r}")
