"""The platform's vocabulary (act kinds, party types, roles and role groups)
is defined once, in core.vocabulary, and every app's fields, forms and
checks take it from there: a catalogue item cannot name an act kind no case
or decision can have, and a role group cannot drift between two apps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps

import sanxiang
from sanxiang.core import vocabulary
from sanxiang.core.vocabulary import ActKind, PartyType

PACKAGE = Path(sanxiang.__file__).resolve().parent
VOCABULARY = PACKAGE / "core" / "vocabulary.py"
VOCABULARY_CLASSES = {"ActKind", "PartyType", "Role", "EnforcementCategory", "PenaltyCategory"}
PARTY_TYPE_CODES = set(PartyType.values)


def _fields_with_choices_of(sample: str):
    for model in apps.get_models():
        if not model.__module__.startswith("sanxiang."):
            continue
        for field in model._meta.get_fields():
            choices = getattr(field, "choices", None)
            if choices and sample in dict(choices):
                yield f"{model._meta.label}.{field.name}", list(choices)


def test_every_field_naming_an_act_kind_offers_the_one_list_of_act_kinds():
    fields = dict(_fields_with_choices_of(ActKind.PENALTY.value))
    assert {"catalog.EnforcementItem.act_kind", "catalog.Flowchart.act_kind", "cases.Case.act_kind",
            "cases.AvRequirement.act_kind", "publicity.Decision.kind", "publicity.PublicDecision.kind"} <= set(fields)
    for name, choices in fields.items():
        assert choices == ActKind.choices, name


def test_every_field_naming_a_party_type_offers_the_one_list_of_party_types():
    from sanxiang.cases.models import Case

    fields = dict(_fields_with_choices_of(PartyType.NATURAL_PERSON.value))
    assert {"cases.Case.party_type", "publicity.Decision.party_type"} <= set(fields)
    for name, choices in fields.items():
        assert choices == PartyType.choices, name
    # a case's party type is validated by the model like any choice field
    assert Case._meta.get_field("party_type").choices == PartyType.choices


@pytest.mark.django_db
def test_the_case_form_offers_the_party_types_of_the_vocabulary_and_the_act_kinds_with_a_process():
    from sanxiang.cases.forms import OpenCaseForm
    from sanxiang.catalog.processes import all_processes
    from sanxiang.core.models import Officer

    form = OpenCaseForm(officers_qs=Officer.objects.none())
    assert list(form.fields["party_type"].choices) == PartyType.choices
    defined = {d.act_kind for d in all_processes()}
    assert [k for k, _ in form.fields["act_kind"].choices] == [k for k in ActKind.values if k in defined]


def test_the_natural_person_test_is_one_for_redaction_intake_and_exchange():
    from sanxiang.publicity import intake, redaction, shuanggongshi

    minor = "110105201001010010"  # born 2010-01-01: a minor on the decision date
    record = {"party_id_number": minor, "decision_date": "2026-09-30", "party_name": "张小明"}
    # the code and the 双公示 name of a natural person are one party type
    for party_type in ("natural_person", "自然人"):
        assert vocabulary.is_natural_person(party_type)
        assert redaction.should_never_publish({**record, "party_type": party_type})
        public = shuanggongshi.exchange_public_text({"party_name": "张小明", "facts": "张小明销售过期食品"},
                                                    party_type=party_type, kind="penalty")
        assert "张小明" not in public["facts"]
    for party_type in ("legal_person", "individual_business", "法人及非法人组织"):
        assert not vocabulary.is_natural_person(party_type)
        assert redaction.should_never_publish({**record, "party_type": party_type}) is None
    # intake reads the 双公示 names as the codes of the vocabulary
    assert {intake.PARTY_TYPES} == {frozenset(PartyType.values)}
    assert vocabulary.PARTY_TYPE_BY_NAME["个体工商户"] == PartyType.INDIVIDUAL_BUSINESS


def _python_files():
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if "migrations" in parts or "tests" in parts or path == VOCABULARY:
            continue
        yield path


def _role_members(node) -> int:
    return sum(1 for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
               and n.value.id == "Role")


def _party_codes(node) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in PARTY_TYPE_CODES}


def test_the_vocabulary_and_its_role_groups_are_defined_only_in_core_vocabulary():
    """No module but core/vocabulary.py defines a vocabulary class, a group
    of two or more roles, or a set of party-type codes (migrations keep
    their literal choices)."""
    found = []
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in VOCABULARY_CLASSES:
                found.append(f"{where}:{node.lineno} class {node.name}")
            if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
                if _role_members(node) >= 2 and all(isinstance(e, ast.Attribute) for e in node.elts):
                    found.append(f"{where}:{node.lineno} a group of roles")
                if len(_party_codes(node)) >= 2:
                    found.append(f"{where}:{node.lineno} a set of party types")
    assert found == []
