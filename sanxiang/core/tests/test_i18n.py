"""The interface is Chinese: every UI string is translated and the compiled
catalogue matches its source."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_ui_string_has_a_chinese_translation():
    po = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [e.msgid for e in po.untranslated_entries()] + [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    # Keyed by (context, msgid): one English word may carry two meanings
    # told apart by pgettext ("open": 打开 a link, 办理中 a case).
    compiled = {(e.msgctxt, e.msgid): (e.msgstr or e.msgstr_plural.get(0)) for e in mo}
    source = {(e.msgctxt, e.msgid): (e.msgstr or e.msgstr_plural.get(0)) for e in po.translated_entries()}
    assert compiled == {**compiled, **source} and set(source) <= set(compiled)
