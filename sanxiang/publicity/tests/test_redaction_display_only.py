"""Public rows the portal loads only to show them (models.display_only: the
search page's results and the decision page) skip the public-text guard's
fingerprints; the guard's promise holds all the same: such a row cannot be
saved with the texts it was loaded with, changed or not."""

from __future__ import annotations

import pytest

from sanxiang.publicity import selectors
from sanxiang.publicity.models import PublicDecision, display_only
from sanxiang.publicity.redaction import UnredactedPublicText, public_copy
from sanxiang.publicity.search import search_public

from .test_redaction_public_fields import planted_world  # noqa: F401 (fixture)


def test_a_row_loaded_for_display_cannot_be_saved_with_its_loaded_texts(planted_world):  # noqa: F811
    public = PublicDecision.objects.first()
    shown = [selectors.get_public_decision(pk=public.pk), *search_public(q=public.title[:2], page_size=100).items]
    assert public.pk in {p.pk for p in shown}
    for row in shown:
        row.visible = False  # texts untouched
        with pytest.raises(UnredactedPublicText, match="PublicDecision"):
            row.save()
    row = selectors.get_public_decision(pk=public.pk)
    row.data["facts"] = "證人王五電話13811112206"  # changed in place after reading
    with pytest.raises(UnredactedPublicText, match="PublicDecision"):
        row.save()
    fresh = PublicDecision.objects.get(pk=public.pk)
    assert fresh.visible and fresh.data == public.data


def test_a_row_read_normally_still_saves_and_a_display_row_saves_with_texts_from_public_copy(planted_world):  # noqa: F811
    public = PublicDecision.objects.first()
    public.visible = False
    public.save()  # read normally: its unchanged texts were fingerprinted
    with display_only():
        row = PublicDecision.objects.get(pk=public.pk)
    copy = public_copy({**row.decision.data}, party_is_natural_person=row.decision.data.get("party_type") == "natural_person")
    row.party_name, row.doc_number, row.title, row.data = copy.party_name, copy.doc_number, copy.title, copy.data
    row.visible = True
    row.save()
    assert PublicDecision.objects.get(pk=public.pk).visible
