"""The append-only, hash-chained audit log: database protection, tamper
detection by `audit verify`, RFC 6962 checkpoints, concurrent writers.

Runs on SQLite and PostgreSQL (DATABASE_URL=postgres://...).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import timezone as dt_timezone

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from sanxiang.core import audit, merkle, signing
from sanxiang.core.audit import append_audit, compute_entry_hash, create_checkpoint, verify_chain
from sanxiang.core.models import AuditCheckpoint, AuditCheckpointSignature, AuditEntry

TABLES = ("core_auditentry", "core_auditcheckpoint", "core_auditcheckpointsignature")


# ---------------------------------------------------------------- helpers


def append_entries(n: int) -> list[AuditEntry]:
    return [
        append_audit(actor=f"officer-{i % 3}", action="case.update", object_type="cases.case", object_id=str(100 + i),
                     payload={"step": i, "note": "立案审批 — 第%d步" % i})
        for i in range(n)
    ]


def sql(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def drop_protection():
    """What an attacker with owner rights on the database does first."""
    if connection.vendor == "sqlite":
        for table in TABLES:
            for op in ("update", "delete"):
                sql(f"DROP TRIGGER {table}_no_{op}")
    else:
        sql("SET CONSTRAINTS ALL IMMEDIATE")  # deferred FK checks pending would forbid ALTER TABLE
        for table in TABLES:
            sql(f"ALTER TABLE {table} DISABLE TRIGGER ALL")


def rehash_from(seq: int):
    """A thorough attacker: recompute every hash from ``seq`` on so the
    chain itself is consistent again."""
    prev = AuditEntry.objects.get(seq=seq - 1).entry_hash if seq > 1 else audit.GENESIS_HASH
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("seq"):
        new_hash = compute_entry_hash(prev_hash=prev, seq=entry.seq, time=entry.time, actor=entry.actor, action=entry.action,
                                      object_type=entry.object_type, object_id=entry.object_id, payload=entry.payload)
        sql("UPDATE core_auditentry SET prev_hash = %s, entry_hash = %s WHERE seq = %s", [prev, new_hash, entry.seq])
        prev = new_hash


def rewrite_entry_2_under_checkpoint_4(settings) -> tuple[str, str]:
    """Five entries, a checkpoint at 4; then, protection dropped, entry #2
    rewritten and the chain rehashed. Returns the root and last entry hash
    a forger would put into checkpoint 4."""
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    append_entries(5)
    drop_protection()
    sql("UPDATE core_auditentry SET payload = %s WHERE seq = 2", ['{"note":"改"}'])
    rehash_from(2)
    leaves = list(AuditEntry.objects.order_by("seq").values_list("entry_hash", flat=True))
    return merkle.root(bytes.fromhex(h) for h in leaves[:4]).hex(), leaves[3]


def verify_fails(*fragments: str) -> str:
    with pytest.raises(CommandError) as exc_info:
        call_command("audit", "verify")
    message = str(exc_info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def ref_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH written as literally as possible (recursive reference)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]) (recursive reference)."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


@pytest.fixture
def audit_log_purged_before_flush(transactional_db):
    """For transaction=True tests that write audit rows: Django's flush at
    teardown would be refused by the append-only triggers, so empty the
    audit tables (triggers kept) just before it. Depending on
    transactional_db makes this teardown run before the flush."""
    yield
    audit.purge_audit_log_for_tests()


# ------------------------------------------------- the database refuses


@pytest.mark.django_db
def test_database_refuses_update_of_an_audit_entry():
    append_entries(3)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql("UPDATE core_auditentry SET payload = %s WHERE seq = 2", ['{"forged":true}'])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(seq=2).update(actor="someone-else")
    assert AuditEntry.objects.get(seq=2).actor == "officer-1"


@pytest.mark.django_db
def test_database_refuses_delete_of_an_audit_entry():
    append_entries(3)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql("DELETE FROM core_auditentry WHERE seq = 2")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEntry.objects.get(seq=3).delete()
    assert AuditEntry.objects.count() == 3


@pytest.mark.django_db
def test_database_refuses_update_and_delete_of_a_checkpoint():
    append_entries(2)
    create_checkpoint()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql("UPDATE core_auditcheckpoint SET root_hash = %s", ["0" * 64])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql("DELETE FROM core_auditcheckpoint")
    assert AuditCheckpoint.objects.count() == 1
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql("UPDATE core_auditcheckpointsignature SET signature = %s", ["00" * 64])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditCheckpointSignature.objects.all().delete()
    assert audit.unprotected_tables() == []


@pytest.mark.django_db
def test_postgresql_refuses_truncate_of_a_non_empty_audit_table():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    append_entries(2)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql("TRUNCATE core_auditentry")
    assert AuditEntry.objects.count() == 2


# ------------------------------------------------------- verification


@pytest.mark.django_db
def test_entries_appended_together_chain_as_single_appends_and_checkpoint_inside_the_batch(settings):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    append_entries(2)
    with transaction.atomic():
        batch = audit.append_audit_many([
            audit.pending_entry(actor=f"officer-{i}", action="publicity.publish", object_type="publicity.decision",
                                object_id=str(i), payload={"version": 1, "reason": "更正 %d" % i})
            for i in range(7)])
    assert [e.seq for e in batch] == list(range(3, 10)) and audit.append_audit_many([]) == []
    append_entries(1)
    rows = list(AuditEntry.objects.order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, 11))
    for before, row in zip([None, *rows], rows):
        assert row.prev_hash == (before.entry_hash if before else audit.GENESIS_HASH)
        assert row.entry_hash == compute_entry_hash(prev_hash=row.prev_hash, seq=row.seq, time=row.time,
                                                    actor=row.actor, action=row.action, object_type=row.object_type,
                                                    object_id=row.object_id, payload=row.payload)
    assert rows[2].payload == audit.canonical_json({"version": 1, "reason": "更正 0"})
    assert list(AuditCheckpoint.objects.order_by("tree_size").values_list("tree_size", flat=True)) == [4, 8]
    result = verify_chain()
    assert result.ok and result.count == 10 and result.checkpoints_checked == 2


@pytest.mark.django_db
def test_intact_chain_verifies_with_count_root_and_checkpoint(settings, capsys):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    entries = append_entries(10)
    call_command("audit", "verify")
    out = capsys.readouterr().out
    root = merkle.root(bytes.fromhex(e.entry_hash) for e in entries).hex()
    assert "entries:     10" in out
    assert root in out
    assert "latest at 8 entries" in out
    result = verify_chain()
    assert (result.ok, result.count, result.latest_root, result.first_bad_seq) == (True, 10, root, None)
    assert result.checkpoints_checked == 2


@pytest.mark.django_db
def test_empty_chain_verifies_with_the_empty_tree_root(capsys):
    call_command("audit", "verify")
    assert merkle.EMPTY_ROOT.hex() in capsys.readouterr().out


# Tampering with entries of a chain of ten: the statements run on the table
# with its protection dropped, what verify must say, and the first bad seq.
TAMPERING = {
    "editing a payload names the entry": (
        [("UPDATE core_auditentry SET payload = %s WHERE seq = 7", ['{"note":"无违法行为"}'])],
        ("#7", "content changed", "第7条记录内容被篡改"), 7),
    "deleting an entry is a gap": (
        [("DELETE FROM core_auditentry WHERE seq = 4", None)], ("#4", "missing", "第4条记录缺失"), 4),
    "reordering two entries names the move": (
        [("UPDATE core_auditentry SET seq = -1 WHERE seq = 5", None), ("UPDATE core_auditentry SET seq = 5 WHERE seq = 6", None),
         ("UPDATE core_auditentry SET seq = 6 WHERE seq = -1", None)],
        ("#5", "sequence number changed (this entry was #6)", "第5条"), 5),
}


@pytest.mark.django_db
@pytest.mark.parametrize("tampering", sorted(TAMPERING))
def test_tampering_with_an_entry_is_detected_and_named(tampering):
    statements, said, first_bad = TAMPERING[tampering]
    append_entries(10)
    drop_protection()
    for statement, params in statements:
        sql(statement, params)
    verify_fails(*said)
    assert verify_chain().first_bad_seq == first_bad


@pytest.mark.django_db
def test_deleting_the_newest_entries_is_detected_by_the_checkpoint_that_signed_them(settings):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    append_entries(8)
    drop_protection()
    sql("DELETE FROM core_auditentry WHERE seq > 6")
    verify_fails("#7", "missing", "checkpoint")


@pytest.mark.django_db
def test_deleting_an_entry_and_renumbering_the_rest_is_detected():
    append_entries(10)
    drop_protection()
    sql("DELETE FROM core_auditentry WHERE seq = 4")
    for seq in range(5, 11):
        sql("UPDATE core_auditentry SET seq = seq - 1 WHERE seq = %s", [seq])
    verify_fails("#4", "sequence number changed", "was #5")


@pytest.mark.django_db
def test_inserting_a_forged_entry_is_detected_and_named():
    entries = append_entries(10)
    drop_protection()
    # Make room at #5 and insert a well-formed forged entry chained to #4.
    for seq in range(10, 4, -1):
        sql("UPDATE core_auditentry SET seq = seq + 1 WHERE seq = %s", [seq])
    forged = AuditEntry(seq=5, time=entries[3].time, actor="officer-0", action="case.close", object_type="cases.case",
                        object_id="104", payload='{"note":"结案"}', prev_hash=entries[3].entry_hash)
    forged.entry_hash = compute_entry_hash(prev_hash=forged.prev_hash, seq=5, time=forged.time, actor=forged.actor,
                                           action=forged.action, object_type=forged.object_type,
                                           object_id=forged.object_id, payload=forged.payload)
    forged.save(force_insert=True)
    verify_fails("#5 was inserted", "第5条记录系插入伪造")
    assert verify_chain().first_bad_seq == 5


@pytest.mark.django_db
def test_rewriting_history_with_recomputed_hashes_is_caught_by_the_signed_checkpoint(settings):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    append_entries(10)
    drop_protection()
    sql("UPDATE core_auditentry SET payload = %s WHERE seq = 6", ['{"note":"已整改"}'])
    rehash_from(6)
    verify_fails("#8", "#5–#8", "rewritten")


@pytest.mark.django_db
def test_a_checkpoint_forged_without_the_key_is_detected(settings):
    root, last = rewrite_entry_2_under_checkpoint_4(settings)
    sql("UPDATE core_auditcheckpoint SET root_hash = %s, last_entry_hash = %s WHERE tree_size = 4", [root, last])
    verify_fails("#4", "signature invalid")


@pytest.mark.django_db
def test_a_checkpoint_signed_with_another_key_does_not_verify(settings):
    append_entries(3)
    create_checkpoint()
    settings.AUDIT_SIGNING_KEY = "another-key"
    verify_fails("#3", "signature invalid")
    with pytest.raises(CommandError, match="INVALID"):
        call_command("audit", "checkpoint")


@pytest.mark.django_db
def test_every_checkpoint_carries_an_ed25519_signature_anyone_can_verify_with_the_public_key(settings, capsys):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    append_entries(9)
    rows = list(AuditCheckpointSignature.objects.select_related("checkpoint").order_by("checkpoint__tree_size"))
    assert [r.checkpoint.tree_size for r in rows] == [4, 8]
    call_command("audit", "public-key", "--json")
    published = json.loads(capsys.readouterr().out)
    for row in rows:
        cp = row.checkpoint
        message = audit.checkpoint_message(tree_size=cp.tree_size, root_hash=cp.root_hash,
                                           last_entry_hash=cp.last_entry_hash, created_at=cp.created_at)
        assert row.public_key == published["public_key"] and signing.verify(published["public_key"], message, row.signature)
        other = audit.checkpoint_message(tree_size=cp.tree_size + 1, root_hash=cp.root_hash,
                                         last_entry_hash=cp.last_entry_hash, created_at=cp.created_at)
        assert not signing.verify(published["public_key"], other, row.signature)
    assert published["key_id"] == signing.key_id(published["public_key"]) and len(published["key_id"]) == 16
    assert verify_chain().ok
    # the private key file is the owner's alone
    assert signing.key_path().stat().st_mode & 0o777 == 0o600


@pytest.mark.django_db
def test_rewriting_history_by_someone_holding_the_hmac_key_is_caught_by_the_public_key_signature(settings):
    """The HMAC key sits in the settings: whoever reads them can re-sign a
    rewritten checkpoint's HMAC. The Ed25519 signature cannot be redone
    without the private key."""
    root, last = rewrite_entry_2_under_checkpoint_4(settings)
    cp = AuditCheckpoint.objects.get(tree_size=4)
    hmac_sig = audit.sign_checkpoint(tree_size=4, root_hash=root, last_entry_hash=last, created_at=cp.created_at)
    sql("UPDATE core_auditcheckpoint SET root_hash = %s, last_entry_hash = %s, signature = %s WHERE tree_size = 4",
        [root, last, hmac_sig])
    verify_fails("#4", "Ed25519 signature invalid")


@pytest.mark.django_db
def test_a_checkpoint_signed_by_a_replaced_key_verifies_only_once_that_key_is_listed(settings, tmp_path):
    old_key = signing.public_key_hex()
    append_entries(2)
    create_checkpoint()
    settings.AUDIT_ED25519_KEY_FILE = str(tmp_path / "new-key.pem")  # the key was lost and replaced
    assert signing.public_key_hex() != old_key
    append_entries(1)
    create_checkpoint()
    verify_fails("#2", "unknown key", signing.key_id(old_key))
    settings.AUDIT_ED25519_PREVIOUS_KEYS = [old_key]
    assert verify_chain().ok and verify_chain().checkpoints_checked == 2


@pytest.mark.django_db
def test_a_copy_verified_where_there_is_no_key_checks_each_signature_and_makes_no_key(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    append_entries(5)
    elsewhere = tmp_path / "keys" / "audit-ed25519.pem"
    settings.AUDIT_ED25519_KEY_FILE = str(elsewhere)  # another machine: no key here
    assert verify_chain().ok and verify_chain().checkpoints_checked == 1
    assert not elsewhere.exists()
    drop_protection()
    sql("UPDATE core_auditcheckpointsignature SET signature = %s", ["00" * 64])
    verify_fails("#4", "Ed25519 signature invalid")


def test_cli_verify_on_a_real_sqlite_database_detects_a_deleted_entry(tmp_path):
    """End to end through the `sanxiang` console command and the sqlite3
    module, as an operator (or an attacker) would."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SANXIANG_AUDIT_CHECKPOINT_INTERVAL"}}
    env.update(SANXIANG_DATA_DIR=str(tmp_path), SANXIANG_AUDIT_CHECKPOINT_INTERVAL="8")
    exe = shutil.which("sanxiang")
    cli = [exe] if exe else [sys.executable, "-m", "sanxiang.cli"]

    def run(*args):
        return subprocess.run([*cli, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert run("migrate", "-v", "0").returncode == 0
    script = ("from sanxiang.core.audit import append_audit\n"
              "for i in range(20): append_audit(actor='cli-test', action='evidence.view', payload={'i': i})\n")
    shell = run("shell", "-c", script)
    assert shell.returncode == 0, shell.stderr
    ok = run("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "entries:     20" in ok.stdout and "latest at 16 entries" in ok.stdout

    db = sqlite3.connect(tmp_path / "sanxiang.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM core_auditentry WHERE seq = 11")
    db.rollback()
    db.execute("DROP TRIGGER core_auditentry_no_delete")
    db.execute("DELETE FROM core_auditentry WHERE seq = 11")
    db.commit()
    db.close()

    broken = run("audit", "verify")
    assert broken.returncode != 0
    assert "entry #11 is missing" in broken.stderr and "第11条记录缺失" in broken.stderr
    assert "no append-only triggers" in broken.stderr


# ------------------------------------------------ Merkle / checkpoints

# Certificate Transparency's reference test vectors: MTH over the first n of
# these eight leaves, n = 1..8, and the empty tree.
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_merkle_root_matches_rfc6962_known_answers():
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for n, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root(CT_LEAVES[:n]).hex() == expected


def test_merkle_root_and_proofs_match_a_reference_implementation():
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(70)]
    for n in range(0, 70):
        tree = leaves[:n]
        root_hash = merkle.root(tree)
        assert root_hash == ref_mth(tree)
        for index in range(n):
            proof = merkle.inclusion_proof(index, tree)
            assert proof == ref_path(index, tree)
            assert merkle.verify_inclusion(tree[index], index, n, proof, root_hash)
            assert not merkle.verify_inclusion(b"\x00" * 32, index, n, proof, root_hash)
            if n > 1:
                assert not merkle.verify_inclusion(tree[index], (index + 1) % n, n, proof, root_hash)
        for old in range(0, n + 1):
            proof = merkle.consistency_proof(old, tree)
            assert merkle.verify_consistency(old, n, ref_mth(tree[:old]), root_hash, proof)
            if 0 < old < n:
                assert not merkle.verify_consistency(old, n, ref_mth(tree[:old]), ref_mth(tree[:-1] + [b"x"]), proof)


def test_many_inclusion_proofs_in_one_pass_are_the_rfc_6962_audit_paths():
    """The one-pass builder (an e-case file proves many entries at once)
    gives exactly the reference paths, and they verify."""
    for n in (1, 2, 3, 5, 8, 13, 64, 100):
        leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
        hashed = [merkle.leaf_hash(x) for x in leaves]
        wanted = {0, n - 1, n // 2, n // 3}
        paths = merkle.inclusion_proofs(hashed, wanted)
        root = merkle.root(leaves)
        assert set(paths) == wanted
        for i in wanted:
            assert paths[i] == ref_path(i, leaves) == merkle.inclusion_proof(i, leaves)
            assert merkle.verify_inclusion(leaves[i], i, n, paths[i], root)
    with pytest.raises(IndexError):
        merkle.inclusion_proofs([merkle.leaf_hash(b"x")], [1])


def test_merkle_root_of_a_million_leaves_needs_no_recursion():
    leaf = hashlib.sha256(b"x").digest()
    frontier = merkle.Frontier()
    for _ in range(1_000_000):
        frontier.append(leaf)
    assert frontier.size == 1_000_000 and len(frontier.root()) == 32


@pytest.mark.django_db
def test_checkpoints_are_written_every_interval_with_an_independent_root_and_signature(settings):
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    settings.AUDIT_SIGNING_KEY = "test-signing-key"
    entries = append_entries(13)
    checkpoints = list(AuditCheckpoint.objects.order_by("tree_size"))
    assert [c.tree_size for c in checkpoints] == [4, 8, 12]
    leaves = [bytes.fromhex(e.entry_hash) for e in entries]
    for cp in checkpoints:
        assert cp.root_hash == ref_mth(leaves[:cp.tree_size]).hex()
        assert cp.last_entry_hash == entries[cp.tree_size - 1].entry_hash
        created = cp.created_at.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        message = json.dumps([cp.tree_size, cp.root_hash, cp.last_entry_hash, created], separators=(",", ":"))
        assert cp.signature == hmac.new(b"test-signing-key", message.encode(), hashlib.sha256).hexdigest()
    # Any entry can be proven to be in a checkpoint.
    cp = checkpoints[-1]
    for index in range(cp.tree_size):
        proof = merkle.inclusion_proof(index, leaves[:cp.tree_size])
        assert merkle.verify_inclusion(leaves[index], index, cp.tree_size, proof, bytes.fromhex(cp.root_hash))
    # And each checkpoint extends the one before.
    proof = merkle.consistency_proof(8, leaves[:12])
    assert merkle.verify_consistency(8, 12, bytes.fromhex(checkpoints[1].root_hash), bytes.fromhex(cp.root_hash), proof)


@pytest.mark.django_db
def test_checkpoint_roots_stay_right_when_built_incrementally(settings, django_capture_on_commit_callbacks):
    """The in-process frontier cache (filled after commit) gives the same
    roots as a full recomputation, and is ignored when it does not describe
    the stored chain."""
    settings.AUDIT_CHECKPOINT_INTERVAL = 4
    audit._frontier_cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entries = append_entries(12)
    assert audit._frontier_cache.get()[0] == 12
    with django_capture_on_commit_callbacks(execute=True):
        entries += append_entries(4)
    leaves = [bytes.fromhex(e.entry_hash) for e in entries]
    assert AuditCheckpoint.objects.get(tree_size=16).root_hash == ref_mth(leaves).hex()
    # A stale cache (another chain) is detected and not used.
    audit._frontier_cache.store(8, "f" * 64, merkle.Frontier())
    entries += append_entries(4)
    leaves = [bytes.fromhex(e.entry_hash) for e in entries]
    assert AuditCheckpoint.objects.get(tree_size=20).root_hash == ref_mth(leaves).hex()
    assert verify_chain().ok


@pytest.mark.django_db
def test_checkpoint_command_prints_and_creates_signed_checkpoints(capsys):
    call_command("audit", "checkpoint")
    assert "no checkpoint yet" in capsys.readouterr().out
    entries = append_entries(5)
    call_command("audit", "checkpoint", "--create")
    out = capsys.readouterr().out
    assert "tree size:       5" in out
    assert ref_mth([bytes.fromhex(e.entry_hash) for e in entries]).hex() in out
    assert "signature valid" in out
    call_command("audit", "checkpoint", "--create", "--json")  # same size: the existing one, not a duplicate
    data = json.loads(capsys.readouterr().out)
    assert data["tree_size"] == 5 and data["signature_valid"] is True
    assert AuditCheckpoint.objects.count() == 1


# --------------------------------------------- transactions and flushing


@pytest.mark.django_db(transaction=True)
def test_flush_is_refused_while_audit_rows_exist_and_allowed_once_purged(audit_log_purged_before_flush):
    """Why the purge fixture exists: Django's test flush is a DELETE
    (SQLite) or TRUNCATE (PostgreSQL) the triggers refuse on a non-empty
    log, and allow on an empty one."""
    append_entries(3)
    with pytest.raises(CommandError):
        call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 3
    audit.purge_audit_log_for_tests()
    call_command("flush", interactive=False, verbosity=0)
    assert audit.unprotected_tables() == []
    append_entries(2)
    assert verify_chain().ok


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_one_unforked_chain(settings, audit_log_purged_before_flush):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are tested on PostgreSQL")
    from django.db import connections

    settings.AUDIT_CHECKPOINT_INTERVAL = 16
    threads_n, per_thread = 8, 25
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(t: int):
        try:
            barrier.wait()
            for i in range(per_thread):
                append_audit(actor=f"writer-{t}", action="test.concurrent", payload={"thread": t, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, threads_n * per_thread + 1))
    assert AuditEntry.objects.values("prev_hash").distinct().count() == threads_n * per_thread
    result = verify_chain()
    assert result.ok, result.reason
    assert result.count == 200 and result.checkpoints_checked == 200 // 16
