"""The cluster benchmark's Django side (bench/cluster.py), run as a
subprocess with the cluster's environment:

    python -m bench.cluster_world WORLD.json RECORDS.json N RUN_ID
        the world through the services: one agency with automatic
        publication, an officer who logs in with a password, an open case
        with a step, a push token (publicity:push) and an upload token
        (evidence:upload); N generated push records (keys unique to the run)
    python -m bench.cluster_world --check MANIFEST.json
        what was stored against what was sent: one JSON line
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sanxiang.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402

from bench.cluster import digest_of_all, record_digest  # noqa: E402
from sanxiang.api.services import create_token  # noqa: E402
from sanxiang.core.models import Agency, User  # noqa: E402
from sanxiang.evidence.fixtures import make_upload_world  # noqa: E402
from sanxiang.evidence.models import Upload, UploadStatus  # noqa: E402
from sanxiang.evidence.storage import ObjectMissing, get_storage  # noqa: E402
from sanxiang.publicity.generator import generate_records  # noqa: E402
from sanxiang.publicity.models import Decision, DecisionVersion  # noqa: E402
from sanxiang.publicity.services import set_auto_publish  # noqa: E402


def make_world(world_file: Path, records_file: Path, n: int, run_id: str) -> None:
    world = make_upload_world()
    user = User.objects.get(username="fixture_officer")
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save(update_fields=["password"])
    agency = user.agency
    set_auto_publish(actor="bench:cluster", agency=agency, enabled=True)
    _, push_token = create_token(actor="bench:cluster", agency=agency, name="cluster bench push",
                                 scopes=["publicity:push"])
    records = generate_records(n, seed=int(run_id[-8:]), prefix=f"CL{run_id}", agency_name=agency.name,
                               abbr="石长市监", regions=["130102", "130104", "130105", "130108"])
    world_file.write_text(json.dumps({
        "agency": agency.credit_code, "case": world["case"], "step": world["step"],
        "upload_token": world["token"], "push_token": push_token, "username": user.username, "password": password,
    }), encoding="utf-8")
    records_file.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def check(manifest_file: Path) -> dict:
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    agency = Agency.objects.get(credit_code=manifest["agency"])
    sent: dict[str, str] = manifest["sent"]
    fields: dict[str, list] = manifest["fields"]
    rows = Decision.objects.filter(agency=agency, external_id__in=list(sent))
    per_key = dict(rows.values("external_id").annotate(n=Count("id")).values_list("external_id", "n"))
    stored_digests, mismatches = {}, []
    for external_id, data in rows.values_list("external_id", "data"):
        digest = record_digest(data, fields[external_id])
        stored_digests[external_id] = digest
        if digest != sent[external_id]:
            mismatches.append(external_id)
    versions = dict(DecisionVersion.objects.filter(decision__agency=agency, decision__external_id__in=list(sent))
                    .values("decision__external_id").annotate(n=Count("id"))
                    .values_list("decision__external_id", "n"))
    extra_rows = sum(n - 1 for n in per_key.values() if n > 1)
    extra_versions = sum(n - 1 for n in versions.values() if n > 1)
    storage = get_storage()
    uploads_ok, s3_verified, upload_problems = 0, 0, []
    for u in manifest["uploads"]:
        upload = Upload.objects.filter(pk=u["id"]).select_related("evidence").first()
        if upload is None or upload.status != UploadStatus.COMPLETED or upload.evidence is None:
            upload_problems.append(f"{u['id']}: {'missing' if upload is None else upload.status} without evidence")
            continue
        item = upload.evidence
        if item.sha256 != u["sha256"] or item.size != u["size"]:
            upload_problems.append(f"{u['id']}: evidence {item.pk} has {item.sha256} / {item.size}")
            continue
        h = hashlib.sha256()
        try:
            with storage.open(item.sha256) as fh:
                while block := fh.read(1024 * 1024):
                    h.update(block)
        except ObjectMissing:
            upload_problems.append(f"{u['id']}: object {item.sha256} missing from the store")
            continue
        if h.hexdigest() != u["sha256"]:
            upload_problems.append(f"{u['id']}: stored object hashes to {h.hexdigest()}")
            continue
        s3_verified += 1
        uploads_ok += 1
    return {
        "stored": len(per_key), "lost": len(set(sent) - set(per_key)), "duplicates": extra_rows + extra_versions,
        "extra_versions": extra_versions, "mismatches": len(mismatches), "mismatch_sample": mismatches[:3],
        "hash_sent": digest_of_all(sent), "hash_stored": digest_of_all(stored_digests),
        "uploads_ok": uploads_ok, "s3_verified": s3_verified, "upload_problems": upload_problems[:5],
    }


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        print(json.dumps(check(Path(sys.argv[2]))))
    else:
        make_world(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
