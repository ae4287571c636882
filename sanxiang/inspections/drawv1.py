#!/usr/bin/env python3
"""sanxiang-draw-v1: the random draw of 双随机一公开, re-runnable by anyone
(公示-5, 公示-15; specified byte for byte in docs/random-inspection.md).

This one file is the platform's draw and the public verifier at once: it
uses the Python standard library only, so a citizen, a journalist or an
auditor downloads it from the portal (/inspections/verify-draw.py) and runs

    python3 drawv1.py DRAW_RECORD.json        # or the record's URL

which recomputes the snapshot hash, checks every reveal against its
commitment, draws again from the revealed secrets and compares the result;
it prints what differs and exits with status 1 on any difference (0: the
draw is what the published inputs give; 2: the record cannot be read).

The algorithm, in short (H = SHA-256 in lowercase hex of the UTF-8 text of
its arguments joined by "|"):
- snapshot = canonical JSON of {"inspectors": [ids sorted], "objects":
  [{"id", "stratum"} sorted by id]}; snapshot_sha256 = SHA-256 of it;
- seed R = H("sanxiang-draw-v1", snapshot_sha256, secret_1, …, secret_n,
  public_value), secrets in ascending participant order, public_value ""
  when none;
- objects: per stratum, sorted by H(R, "object", stratum, id), the first
  ceil(ratio × N) selected;
- inspectors: the selected objects in ascending order of that key; for
  each, the inspectors ranked by H(R, "inspector", object id, inspector id),
  the first k without a declared conflict with the object and under the
  per-inspector limit assigned.
Ids are JSON strings compared by Unicode code point; ties of two hashes
(never seen with SHA-256) are broken by id.
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.request
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

ALGORITHM = "sanxiang-draw-v1"


def H(*parts: str) -> str:  # noqa: N802 (the specification's name)
    """SHA-256, lowercase hex, of the UTF-8 text of ``parts`` joined by "|"."""
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def canonical(value) -> bytes:
    """Canonical JSON: sorted keys, separators "," and ":", UTF-8 unescaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class DrawError(ValueError):
    """The inputs cannot be drawn from (the message names the field)."""


def snapshot_of(objects, inspectors) -> dict:
    """The snapshot in its canonical order: objects ({"id", "stratum"})
    sorted by id, inspector ids sorted; ids and strata must be non-empty
    strings, each id once."""
    rows = []
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or set(obj) != {"id", "stratum"}:
            raise DrawError(f"snapshot.objects[{i}]: must be an object with exactly the keys id and stratum")
        if not all(isinstance(obj[k], str) and obj[k] for k in ("id", "stratum")):
            raise DrawError(f"snapshot.objects[{i}]: id and stratum must be non-empty strings")
        rows.append({"id": obj["id"], "stratum": obj["stratum"]})
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise DrawError("snapshot.objects: an object id appears twice")
    people = list(inspectors)
    if not all(isinstance(p, str) and p for p in people):
        raise DrawError("snapshot.inspectors: every inspector id must be a non-empty string")
    if len(set(people)) != len(people):
        raise DrawError("snapshot.inspectors: an inspector id appears twice")
    return {"inspectors": sorted(people), "objects": sorted(rows, key=lambda r: r["id"])}


def snapshot_sha256(snapshot: dict) -> str:
    return hashlib.sha256(canonical(snapshot)).hexdigest()


def commitment(secret: str) -> str:
    """What a participant publishes before the draw: H(secret)."""
    return H(secret)


def seed(snapshot_hash: str, secrets_in_participant_order: list[str], public_value: str = "") -> str:
    return H(ALGORITHM, snapshot_hash, *secrets_in_participant_order, public_value or "")


def ratio_of(stratum: str, text) -> Decimal:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        raise DrawError(f"ratios.{stratum}: {text!r} is not a decimal number") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise DrawError(f"ratios.{stratum}: must be between 0 and 1, not {text}")
    return value


def selected_count(ratio: Decimal, population: int) -> int:
    """ceil(ratio × N), exactly (decimal arithmetic, no binary rounding)."""
    return int((ratio * population).to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True)
class Drawn:
    seed: str
    # [{"object": id, "inspectors": [ids]}] in the order of the objects' keys
    result: list
    # object ids that got fewer than k inspectors (conflicts, limits, too few people)
    short: list


def check_parameters(*, ratios: dict, k: int, limit: int | None, conflicts) -> tuple[dict, set]:
    """The draw's parameters checked (DrawError naming the field): the
    ratios as Decimals and the conflicts as (inspector, object) pairs."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise DrawError(f"k: the number of inspectors per object must be a whole number of at least 1, not {k!r}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise DrawError(f"limit: must be empty or a whole number of at least 1, not {limit!r}")
    if not isinstance(ratios, dict):
        raise DrawError("ratios: must map each stratum to a decimal ratio")
    parsed = {str(s): ratio_of(str(s), r) for s, r in ratios.items()}
    barred = set()
    for i, pair in enumerate(conflicts or []):
        if not isinstance(pair, dict) or not isinstance(pair.get("inspector"), str) or not isinstance(pair.get("object"), str):
            raise DrawError(f"conflicts[{i}]: must be an object with the string keys inspector and object")
        barred.add((pair["inspector"], pair["object"]))
    return parsed, barred


def draw(*, snapshot: dict, secrets: list[str], public_value: str, ratios: dict, k: int,
         limit: int | None, conflicts) -> Drawn:
    """Run sanxiang-draw-v1 on a canonical snapshot. ``ratios``: stratum →
    decimal text (a stratum without a ratio selects nobody); ``conflicts``:
    [{"inspector", "object"}] pairs never assigned together."""
    parsed, barred = check_parameters(ratios=ratios, k=k, limit=limit, conflicts=conflicts)
    r = seed(snapshot_sha256(snapshot), secrets, public_value)

    strata: dict[str, list[str]] = {}
    for obj in snapshot["objects"]:
        strata.setdefault(obj["stratum"], []).append(obj["id"])
    chosen: list[tuple[str, str]] = []  # (key, object id)
    for stratum in sorted(strata):
        ids = strata[stratum]
        keyed = sorted(((H(r, "object", stratum, oid), oid) for oid in ids))
        chosen.extend(keyed[:selected_count(parsed.get(stratum, Decimal(0)), len(ids))])
    chosen.sort()

    load = {p: 0 for p in snapshot["inspectors"]}
    result, short = [], []
    for _, oid in chosen:
        ranked = sorted((H(r, "inspector", oid, pid), pid) for pid in snapshot["inspectors"])
        team = []
        for _, pid in ranked:
            if len(team) == k:
                break
            if (pid, oid) in barred or (limit is not None and load[pid] >= limit):
                continue
            team.append(pid)
            load[pid] += 1
        result.append({"object": oid, "inspectors": team})
        if len(team) < k:
            short.append(oid)
    return Drawn(seed=r, result=result, short=short)


# --- verifying a published draw record ------------------------------------------


def verify(record: dict) -> list[str]:
    """Every difference between a published draw record and what its own
    inputs give (empty: the record is right)."""
    problems: list[str] = []
    if not isinstance(record, dict):
        return ["the record is not a JSON object"]
    if record.get("algorithm") != ALGORITHM:
        return [f"algorithm: {record.get('algorithm')!r} is not {ALGORITHM}"]
    try:
        given = record["snapshot"]
        snapshot = snapshot_of(given["objects"], given["inspectors"])
    except (KeyError, TypeError):
        return ["snapshot: objects and inspectors are required"]
    except DrawError as exc:
        return [str(exc)]
    if canonical(snapshot) != canonical({"inspectors": given["inspectors"], "objects": given["objects"]}):
        problems.append("snapshot: not in canonical order (objects sorted by id, inspectors sorted)")
    digest = snapshot_sha256(snapshot)
    if record.get("snapshot_sha256") != digest:
        problems.append(f"snapshot_sha256: the record says {record.get('snapshot_sha256')}, the snapshot hashes to {digest}")

    commitments = {c.get("participant"): c.get("sha256") for c in record.get("commitments") or [] if isinstance(c, dict)}
    reveals = {c.get("participant"): c.get("secret") for c in record.get("reveals") or [] if isinstance(c, dict)}
    if not commitments:
        problems.append("commitments: none published")
    for participant in sorted(set(commitments) | set(reveals), key=str):
        secret = reveals.get(participant)
        if participant not in commitments:
            problems.append(f"reveals: participant {participant} revealed a secret without a commitment")
        elif not isinstance(secret, str):
            problems.append(f"reveals: participant {participant} has not revealed a secret")
        elif commitment(secret) != commitments[participant]:
            problems.append(f"reveals: the secret of participant {participant} does not match its commitment")
    if problems:
        return problems
    order = sorted(commitments, key=_participant_order)
    try:
        drawn = draw(snapshot=snapshot, secrets=[reveals[p] for p in order], public_value=record.get("public_value") or "",
                     ratios=record.get("ratios") or {}, k=record.get("k"), limit=record.get("limit"),
                     conflicts=record.get("conflicts") or [])
    except DrawError as exc:
        return [str(exc)]
    published = record.get("result")
    if published != drawn.result:
        problems.extend(_result_differences(published, drawn.result))
    if "seed" in record and record["seed"] != drawn.seed:
        problems.append(f"seed: the record says {record['seed']}, the inputs give {drawn.seed}")
    return problems


def _participant_order(participant):
    """Ascending participant id: numbers numerically, else as text."""
    return (0, int(participant), "") if isinstance(participant, int) or str(participant).isdigit() else (1, 0, str(participant))


def _result_differences(published, expected: list) -> list[str]:
    if not isinstance(published, list):
        return ["result: missing or not a list"]
    lines = []
    if len(published) != len(expected):
        lines.append(f"result: {len(published)} objects published, the draw selects {len(expected)}")
    for i, (got, want) in enumerate(zip(published, expected)):
        if got != want:
            lines.append(f"result[{i}]: published {json.dumps(got, ensure_ascii=False)}, "
                         f"the draw gives {json.dumps(want, ensure_ascii=False)}")
    return lines


def load(source: str) -> dict:
    """A draw record from a file path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 (the user's URL)
            return json.loads(response.read().decode("utf-8"))
    with open(source, encoding="utf-8") as f:
        return json.load(f)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python3 drawv1.py DRAW_RECORD.json|URL\n"
              "Re-runs a sanxiang-draw-v1 random inspection draw and compares it with the published result.")
        return 0 if args and args[0] in ("-h", "--help") else 2
    try:
        record = load(args[0])
    except (OSError, ValueError) as exc:
        print(f"cannot read the draw record {args[0]}: {exc}", file=sys.stderr)
        return 2
    problems = verify(record)
    if problems:
        print("DIFFERENT: the published draw is not what its inputs give")
        for line in problems:
            print(f"- {line}")
        return 1
    print(f"OK: {len(record['result'])} objects drawn; the result is what the published inputs give "
          f"(seed {drawn_seed(record)})")
    return 0


def drawn_seed(record: dict) -> str:
    reveals = {c["participant"]: c["secret"] for c in record["reveals"]}
    order = sorted(reveals, key=_participant_order)
    return seed(record["snapshot_sha256"], [reveals[p] for p in order], record.get("public_value") or "")


if __name__ == "__main__":
    sys.exit(main())
