"""The documented schemas (docs/schemas/docking/) describe what is sent."""

import json
import re
from pathlib import Path

import pytest

from sanxiang.docking import registry
from sanxiang.docking.officers import public_officer

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "docking"


def test_every_object_type_has_its_versioned_schema_file_and_the_message_schema_lists_it():
    message = json.loads((SCHEMAS / "message.v1.schema.json").read_text(encoding="utf-8"))
    assert set(message["properties"]["data"]["properties"]["object_type"]["enum"]) == set(registry.OBJECT_TYPES)
    for name, kind in registry.OBJECT_TYPES.items():
        assert (SCHEMAS / f"{name}.v{kind.schema_version}.schema.json").is_file()


def test_the_officer_sent_has_exactly_the_schemas_fields_with_values_of_its_patterns(world):
    schema = json.loads((SCHEMAS / "officer.v1.schema.json").read_text(encoding="utf-8"))
    sent = public_officer(world.zhengding_officer)
    assert set(sent) == set(schema["properties"]) == set(schema["required"])
    assert sent["schema"] == schema["properties"]["schema"]["const"]
    for field, rule in schema["properties"].items():
        if "pattern" in rule:
            assert re.fullmatch(rule["pattern"], sent[field]), field
        if "enum" in rule:
            assert sent[field] in rule["enum"], field
