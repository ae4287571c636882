"""`sanxiang --help` names every management command of the project's apps and
every sub-command of those commands, each with a description.

The commands and their sub-commands are discovered from the commands'
own argument parsers, so a new command (or a new sub-command) that has no
line in sanxiang.cli.COMMANDS makes this test fail."""

import argparse
import re
import subprocess

from django.core.management import get_commands, load_command_class

HELP_LINE = re.compile(r"^  (?P<name>\S.*?)\s{2,}(?P<text>\S.*)$")


def project_commands() -> dict[str, set[str]]:
    """Every management command defined in a sanxiang app, with the names of its
    sub-commands: argparse sub-parsers, or the choices of a leading positional
    argument (`audit verify|checkpoint|public-key`)."""
    found: dict[str, set[str]] = {}
    for name, app in get_commands().items():
        if not app.startswith("sanxiang."):
            continue
        parser = load_command_class(app, name).create_parser("sanxiang", name)
        subs: set[str] = set()
        positionals = [a for a in parser._actions if not a.option_strings]
        if positionals and positionals[0].choices:  # only the first positional names a sub-command
            subs.update(positionals[0].choices)
        found[name] = subs
    return found


def help_entries() -> dict[tuple[str, ...], str]:
    out = subprocess.run(["sanxiang", "--help"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    entries = {}
    for line in out.splitlines():
        m = HELP_LINE.match(line)
        if not m:
            continue
        # The command words are the leading lower-case words; FILE, DATE, N, ... are placeholders.
        words = []
        for word in m["name"].split():
            if not re.fullmatch(r"[a-z][a-z0-9_-]*", word):
                break
            words.append(word)
        entries[tuple(words)] = m["text"]
    return entries


def test_the_discovery_sees_the_commands_and_their_sub_commands():
    # Guards the test itself: if discovery broke, the check below would pass vacuously.
    commands = project_commands()
    assert {"token", "calendar", "publicity", "search", "audit", "unlock"} <= commands.keys()
    assert commands["token"] == {"create", "list", "revoke", "key"}
    assert {"load", "show", "add-working-days"} <= commands["calendar"]
    assert commands["audit"] == {"verify", "checkpoint", "public-key"}
    assert commands["search"] == {"rebuild"}
    assert commands["unlock"] == set()


def test_help_lists_every_project_command_and_sub_command_with_a_description():
    entries = help_entries()
    missing = []
    for command, subs in sorted(project_commands().items()):
        wanted = [(command, sub) for sub in sorted(subs)] if subs else [(command,)]
        for key in wanted:
            if not entries.get(key, "").strip():
                missing.append(" ".join(key))
    assert not missing, "`sanxiang --help` has no line for: " + ", ".join(missing) + " (add them to sanxiang.cli.COMMANDS)"
