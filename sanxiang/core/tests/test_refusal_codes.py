"""Every refusal carries a stable code: no ValidationError anywhere in the
platform's code is built from a bare message, which the API and tus would
answer as a generic "invalid" (core.refusals.reject is the short way)."""

from __future__ import annotations

import ast
from pathlib import Path

import sanxiang

PACKAGE = Path(sanxiang.__file__).resolve().parent


def _bare_validation_errors(tree) -> list[int]:
    bare = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ValidationError"):
            continue
        if any(k.arg == "code" for k in node.keywords) or not node.args:
            continue
        first = node.args[0]
        if isinstance(first, (ast.Name, ast.Attribute)):
            continue  # re-raising errors that already carry their codes (error_list, a built dict)
        if isinstance(first, (ast.Dict, ast.DictComp)):
            values = first.values if isinstance(first, ast.Dict) else [first.value]
            if all(isinstance(v, ast.Attribute) or (isinstance(v, ast.Call) and getattr(v.func, "id", None)
                                                     == "ValidationError") for v in values):
                continue
        bare.append(node.lineno)
    return bare


def test_every_validation_error_raised_in_the_code_names_a_stable_code():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts:
            continue
        for line in _bare_validation_errors(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert found == []
