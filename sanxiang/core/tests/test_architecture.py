"""The structure the apps keep (docs/architecture.md, docs/decisions/0011):
dependencies run one way, higher apps plug into lower ones through explicit
registries filled in AppConfig.ready (never signals, never imports hidden in
functions), scheduled work is registered from each app's tasks.py, and
settings are declared in settings.py only. Read from the code (AST) and from
the running Django, so a change that breaks a rule fails here."""

from __future__ import annotations

import ast
import weakref
from pathlib import Path

from django.apps import apps as django_apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import signals as model_signals

PACKAGE = Path(__file__).resolve().parents[2]  # sanxiang/

# Each app may import only apps on a lower layer (rules is a plain package
# of dated parameters, below every app).
LAYERS = {"core": 0, "api": 1, "catalog": 2, "cases": 3, "documents": 4, "evidence": 4, "publicity": 4, "review": 5, "inspections": 5, "statistics": 6, "docking": 7, "supervision": 7, "evaluation": 8, "measures": 8}


def _apps() -> list[str]:
    return sorted(p.parent.name for p in PACKAGE.glob("*/apps.py"))


def _modules(app: str):
    for path in sorted((PACKAGE / app).rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "migrations" in parts or "tests" in parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _imported_apps(node, path: Path) -> list[str]:
    """The sanxiang apps an import statement names."""
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[: -node.level]
            names = [".".join(base + ([node.module] if node.module else []))]
            if not node.module:
                names += [".".join(base + [a.name]) for a in node.names]
        else:
            names = [node.module or ""] + ([f"sanxiang.{a.name}" for a in node.names] if node.module == "sanxiang" else [])
    elif isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        return []
    found = []
    for name in names:
        parts = name.split(".")
        if parts[0] == "sanxiang" and len(parts) > 1 and parts[1] in LAYERS:
            found.append(parts[1])
    return found


def _imports(app: str):
    """(path, line, imported app, inside a function?) for every cross-app import."""
    for path, tree in _modules(app):
        inside = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inside.update(id(sub) for sub in ast.walk(node) if sub is not node)
        for node in ast.walk(tree):
            for other in _imported_apps(node, path):
                if other != app:
                    yield path.relative_to(PACKAGE.parent), node.lineno, other, id(node) in inside


def test_every_app_has_a_layer():
    assert set(_apps()) == set(LAYERS), "a new app needs its place in LAYERS and in docs/architecture.md"


def test_apps_import_only_apps_below_them():
    upward = [f"{path}:{line} -> {other}" for app in LAYERS for path, line, other, _ in _imports(app)
              if LAYERS[other] >= LAYERS[app]]
    assert upward == [], "imports of an app on the same or a higher layer (plug in through a registry instead)"


def test_no_import_across_apps_is_hidden_inside_a_function():
    hidden = [f"{path}:{line} -> {other}" for app in LAYERS for path, line, other, inner in _imports(app) if inner]
    assert hidden == [], "import it at module level (it is a lower app) or plug in through a registry"


def _project_receivers(signal) -> list[str]:
    found = []
    for entry in signal.receivers:  # (lookup key, receiver or a weak reference to it, is_async)
        target = entry[1]
        if isinstance(target, weakref.ReferenceType):
            target = target()
        target = getattr(target, "__func__", target)
        module = getattr(target, "__module__", "") or ""
        if module.startswith("sanxiang"):
            found.append(f"{module}.{getattr(target, '__qualname__', target)}")
    return found


def test_no_project_code_receives_model_or_login_signals():
    """Business effects never hang on signals: the decision guard (审核-8),
    the hooks of higher apps and the login audit are explicit calls."""
    django_apps.check_apps_ready()
    signals = [model_signals.pre_save, model_signals.post_save, model_signals.pre_delete, model_signals.post_delete,
               model_signals.m2m_changed, user_logged_in, user_logged_out, user_login_failed]
    assert [r for s in signals for r in _project_receivers(s)] == []


def test_every_scheduled_job_lives_in_an_apps_tasks_module_and_is_registered_once():
    from sanxiang.core.jobs import JOBS

    assert set(JOBS) == {"security.log_purge", "publicity.expire", "evidence", "review.deadlines", "docking.deliver",
                         "docking.reconcile", "supervision.alerts", "measures.evidence"}
    for name, path in JOBS.items():
        module = path.rsplit(".", 1)[0]
        assert module.startswith("sanxiang.") and module.endswith(".tasks"), (name, path)
        assert module.split(".")[1] in LAYERS


def test_settings_are_read_only_where_settings_py_declares_them():
    """No getattr(settings, NAME, default) and no os.environ read of a fixed
    name outside settings.py: each setting is declared there once, with its
    environment variable (the CLI and WSGI bootstraps only set defaults)."""
    bootstraps = {"settings.py", "cli.py", "wsgi.py", "testing_env.py", "conftest.py", "__main__.py"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts or path.name in bootstraps:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) == 3 \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == "settings":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} getattr(settings, …, default)")
            if isinstance(func, ast.Attribute) and func.attr in ("get", "__getitem__") \
                    and isinstance(func.value, ast.Attribute) and func.value.attr == "environ" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} os.environ.get({node.args[0].value!r})")
    assert found == []
