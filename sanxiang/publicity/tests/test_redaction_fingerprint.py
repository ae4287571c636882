"""The public-text guard's fingerprint of a loaded value (redaction._fingerprint)
is built by one shared encoder (it runs four times for every public row read);
it must stay the exact text json.dumps gives, so rows read before and after
compare the same, and a value changed in place is still told apart."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from sanxiang.publicity.redaction import _fingerprint

VALUES = [
    "张某某销售过期食品案", "", "冀石市监罚〔2026〕12号 \"quoted\" \\ \n", None, 0, 12.5,
    {"facts": "当事人……", "basis": "《中华人民共和国食品安全法》", "penalty_categories": ["罚款", "警告"],
     "z": {"b": 1, "a": [date(2026, 3, 2), Decimal("1.50")]}, "fine_fen": 500000},
    ["罚款", {"y": None, "x": True}],
]


def test_fingerprint_is_the_sorted_json_text_of_the_value():
    for value in VALUES:
        assert _fingerprint(value) == json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def test_fingerprint_tells_a_value_changed_in_place_from_the_loaded_one():
    data = {"facts": "当事人张某某", "penalty_categories": ["罚款"]}
    loaded = _fingerprint(data)
    data["penalty_categories"].append("警告")
    assert _fingerprint(data) != loaded
    data["penalty_categories"].pop()
    assert _fingerprint(data) == loaded
    assert _fingerprint({"b": 1, "a": 2}) == _fingerprint({"a": 2, "b": 1})
