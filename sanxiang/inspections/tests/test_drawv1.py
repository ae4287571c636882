"""sanxiang-draw-v1 itself (drawv1.py, the verifier anyone downloads):
the same inputs give the same draw; any change of snapshot, secret or
result fails verification; conflicts and the per-inspector limit hold;
the worked example of docs/random-inspection.md gives its numbers."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sanxiang.inspections import drawv1

OBJECTS = [{"id": f"{n}", "stratum": "ABCD"[n % 4]} for n in range(1, 41)]
INSPECTORS = [f"P{n:02d}" for n in range(1, 9)]
S1, S2 = "11" * 32, "22" * 32


def record(**overrides) -> dict:
    args = dict(objects=OBJECTS, inspectors=INSPECTORS, secrets=[S1, S2], public_value="", ratios={"A": "0.1", "B": "0.25", "C": "0.5", "D": "1"},
                k=2, limit=None, conflicts=[])
    args.update(overrides)
    snapshot = drawv1.snapshot_of(args["objects"], args["inspectors"])
    drawn = drawv1.draw(snapshot=snapshot, secrets=args["secrets"], public_value=args["public_value"], ratios=args["ratios"],
                        k=args["k"], limit=args["limit"], conflicts=args["conflicts"])
    return {"algorithm": drawv1.ALGORITHM, "snapshot": snapshot, "snapshot_sha256": drawv1.snapshot_sha256(snapshot),
            "commitments": [{"participant": i + 1, "sha256": drawv1.commitment(s)} for i, s in enumerate(args["secrets"])],
            "reveals": [{"participant": i + 1, "secret": s} for i, s in enumerate(args["secrets"])],
            "public_value": args["public_value"], "ratios": args["ratios"], "k": args["k"], "limit": args["limit"],
            "conflicts": args["conflicts"], "seed": drawn.seed, "result": drawn.result}


def test_the_same_inputs_give_the_same_draw_whatever_the_order_they_come_in():
    a = record()
    b = record(objects=list(reversed(OBJECTS)), inspectors=list(reversed(INSPECTORS)))
    assert a == b and drawv1.verify(a) == []


def test_the_selected_count_per_tier_is_the_exact_ceiling_of_ratio_times_population():
    r = record()
    chosen = {o["object"] for o in r["result"]}
    strata = {o["id"]: o["stratum"] for o in OBJECTS}
    per = {t: sum(1 for c in chosen if strata[c] == t) for t in "ABCD"}
    assert per == {"A": 1, "B": 3, "C": 5, "D": 10}  # ceil(0.1·10), ceil(0.25·10) = 3, 5, 10
    assert drawv1.selected_count(drawv1.ratio_of("X", "0.3"), 10) == 3  # 0.3 × 10 is 3 exactly, not 3.0000000000000004


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["snapshot"]["objects"].pop(), "snapshot_sha256"),
    (lambda r: r["reveals"][0].update(secret="33" * 32), "does not match its commitment"),
    (lambda r: r["result"][0]["inspectors"].reverse(), "result[0]"),
    (lambda r: r["result"].pop(), "result:"),
    (lambda r: r.update(public_value="2026-12-01 福彩3D 123"), "result"),
    (lambda r: r["ratios"].update(A="0.2"), "result"),
    (lambda r: r.update(k=3), "result"),
])
def test_a_changed_snapshot_secret_or_result_fails_verification(change, expected):
    r = record()
    changed = copy.deepcopy(r)
    change(changed)
    problems = drawv1.verify(changed)
    assert problems and any(expected in p for p in problems), problems


def test_a_conflicted_inspector_is_never_assigned_to_that_object():
    conflicts = [{"inspector": p, "object": o["id"]} for p in INSPECTORS[:3] for o in OBJECTS[::2]]
    for n in range(30):
        r = record(secrets=[f"{n:064x}"], conflicts=conflicts)
        barred = {(c["inspector"], c["object"]) for c in conflicts}
        assert all((p, row["object"]) not in barred for row in r["result"] for p in row["inspectors"])
        assert all(len(row["inspectors"]) == 2 for row in r["result"])
        assert drawv1.verify(r) == []


def test_the_per_inspector_limit_holds_and_short_objects_are_reported():
    for n in range(20):
        r = record(secrets=[f"{n:064x}"], limit=3)
        load = {}
        for row in r["result"]:
            for p in row["inspectors"]:
                load[p] = load.get(p, 0) + 1
        assert max(load.values()) <= 3
    snapshot = drawv1.snapshot_of(OBJECTS, INSPECTORS)
    drawn = drawv1.draw(snapshot=snapshot, secrets=[S1], public_value="", ratios={"D": "1"}, k=2, limit=1, conflicts=[])
    assert len(drawn.short) == 10 - 4  # 8 inspectors × 1 object each cover 4 objects of 10, two by two


@pytest.mark.parametrize("bad, field", [
    ({"ratios": {"A": "0.5x"}}, "ratios.A"), ({"ratios": {"A": "1.5"}}, "ratios.A"), ({"k": 0}, "k:"),
    ({"limit": 0}, "limit:"), ({"conflicts": [{"inspector": 1}]}, "conflicts[0]"),
])
def test_bad_draw_parameters_are_refused_naming_the_field(bad, field):
    with pytest.raises(drawv1.DrawError, match=field.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        record(**bad)


def test_the_worked_example_of_the_documentation_is_reproduced():
    """docs/random-inspection.md walks this exact example; its hashes are
    checked here so the page never drifts from the code."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "random-inspection.md").read_text(encoding="utf-8")
    snapshot = drawv1.snapshot_of([{"id": "1", "stratum": "A"}, {"id": "2", "stratum": "A"}, {"id": "3", "stratum": "B"},
                                   {"id": "4", "stratum": "B"}, {"id": "5", "stratum": "B"}], ["P1", "P2", "P3"])
    text = drawv1.canonical(snapshot).decode()
    assert text in doc
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert digest in doc
    secret_1, secret_2 = "a" * 64, "b" * 64
    assert drawv1.commitment(secret_1) in doc and drawv1.commitment(secret_2) in doc
    drawn = drawv1.draw(snapshot=snapshot, secrets=[secret_1, secret_2], public_value="", ratios={"A": "0.5", "B": "0.34"},
                        k=2, limit=None, conflicts=[{"inspector": "P2", "object": "5"}])
    assert drawn.seed in doc
    assert json.dumps(drawn.result, ensure_ascii=False, separators=(",", ":")) in doc


def test_the_verifier_runs_alone_with_the_standard_library(tmp_path):
    """The downloadable file: run by a bare python3 (-I: no site packages,
    no project on the path), it says OK for a true record and DIFFERENT,
    exit 1, for a changed one."""
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record(), ensure_ascii=False), encoding="utf-8")
    script = Path(drawv1.__file__)
    ok = subprocess.run([sys.executable, "-I", str(script), str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("OK:"), ok.stderr
    changed = record()
    changed["result"][0]["inspectors"].reverse()
    path.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    bad = subprocess.run([sys.executable, "-I", str(script), str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1 and "DIFFERENT" in bad.stdout and "result[0]" in bad.stdout
    unreadable = subprocess.run([sys.executable, "-I", str(script), str(tmp_path / "none.json")], capture_output=True, text=True)
    assert unreadable.returncode == 2 and "cannot read" in unreadable.stderr


def test_sanxiang_draw_verify_exits_1_naming_the_difference_and_2_for_an_unreadable_record(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "record.json"
    changed = record()
    changed["snapshot"]["objects"][0]["stratum"] = "D"  # a tier changed after the fact
    path.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("draw", "verify", str(path))
    assert exc.value.returncode == 1 and "snapshot_sha256" in capsys.readouterr().out
    with pytest.raises(CommandError) as exc:
        call_command("draw", "verify", str(tmp_path / "missing.json"))
    assert exc.value.returncode == 2
