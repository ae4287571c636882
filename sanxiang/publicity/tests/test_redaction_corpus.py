"""A generated corpus (seeded; every bypass format of issue 9 section 3 x
many secrets) goes through the redactor: no planted secret is readable in
the public copy, and the ordinary public text (dates, amounts, 文号, article
numbers, credit codes, permit numbers) is unchanged.

The corpus itself is in redaction_corpus.py; the public-channel test
(test_redaction_public_fields.py) publishes part of it through the real
services and scans every public page, API, feed and export."""

from __future__ import annotations

from collections import Counter

from sanxiang.publicity.redaction import public_copy

from .redaction_corpus import FORMATS, NAME_FORMATS, PARTY_FORMATS, generate, leaks

N_RECORDS = 600  # x 8 secrets = 4,800 planted secrets


def _public_texts(copy) -> str:
    return " | ".join([copy.party_name, copy.title, *(str(v) for v in copy.data.values() if isinstance(v, str))])


def test_no_planted_secret_in_any_bypass_format_survives_redaction():
    corpus = generate(N_RECORDS)
    planted, leaked, formats = Counter(), Counter(), set()
    for item in corpus:
        copy = public_copy(item.record, party_is_natural_person=True, kind="penalty")
        text = _public_texts(copy)
        for secret in item.secrets:
            planted[secret.kind] += 1
            formats.add((secret.kind, secret.fmt.split("/")[0]))
            if leaks(text, secret, ordinary=tuple(item.ordinary)):
                leaked[(secret.kind, secret.fmt)] += 1
    assert sum(planted.values()) == 8 * N_RECORDS
    # every format of every kind was used
    expected = {(k, f) for k, fs in FORMATS.items() for f in fs}
    expected |= {("witness", f) for f in NAME_FORMATS} | {("party", f) for f in PARTY_FORMATS}
    assert expected <= formats
    assert not leaked, f"leaks by (kind, format): {dict(leaked)}"


def test_ordinary_public_text_of_the_corpus_is_unchanged():
    lost = []
    for item in generate(N_RECORDS // 3):
        copy = public_copy(item.record, party_is_natural_person=True, kind="penalty")
        text = _public_texts(copy)
        lost += [value for value in item.ordinary if value not in text]
    assert lost == []


def test_the_leak_reader_sees_what_a_person_would():
    """The corpus check itself can fail: the secret in its written form is
    readable, whatever the separators, scripts or zero-width characters."""
    for item in generate(40):
        raw = " ".join(str(v) for v in item.record.values() if isinstance(v, str))
        for secret in item.secrets:
            if secret.kind == "party" and secret.fmt in ("zero_width_in_field", "nul_in_field"):
                continue  # the text holds the clean name; the field form is checked through party_name
            assert leaks(raw, secret), (secret, raw)
