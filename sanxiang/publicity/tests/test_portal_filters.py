"""The portal search form's region and agency lists (公示-16), built from
plain tuples in one pass (publicity.selectors.portal_filter_choices and the
region_options/agency_options tags) because every search page carries a
province's 122 regions and 550 agencies: the same options as before, in the
same order, the chosen ones selected, every name escaped. The lists are held
between requests and read again after a region or agency changes."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from sanxiang.core import services
from sanxiang.core.models import Agency
from sanxiang.core.validators import make_credit_code
from sanxiang.publicity import selectors
from sanxiang.publicity.selectors import portal_filter_choices

pytestmark = pytest.mark.django_db


def _select(html: str, name: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of every option of the <select name=…>."""
    block = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(value, label, bool(selected)) for value, selected, label in
            re.findall(r'<option value="([^"]*)"( selected)?>(.*?)</option>', block)]


@pytest.fixture
def portal_world(world):
    services.create_region(actor="test-fixture", code="130102001", name="建北街道", level="township", parent=world.changan)
    # A name that needs escaping, and an agency no longer active.
    Agency.objects.filter(pk=world.amr_zhengding.pk).update(name="正定县市场监督管理局<&>")
    Agency.objects.filter(pk=world.amr_lunan.pk).update(is_active=False)
    return world


def test_region_list_goes_down_to_counties_in_code_order_with_counties_indented(portal_world):
    html = Client().get("/decisions/").content.decode()
    assert _select(html, "region") == [
        ("", "全部区划", False), ("130000", "河北省", False), ("130100", "石家庄市", False),
        ("130102", "　长安区", False), ("130123", "　正定县", False), ("130200", "唐山市", False),
        ("130202", "　路南区", False)]


def test_agency_list_holds_active_enforcement_agencies_in_region_and_name_order_escaped(portal_world):
    w = portal_world
    html = Client().get("/decisions/").content.decode()
    assert _select(html, "agency") == [
        ("", "全部部门", False), (str(w.amr_changan.pk), "石家庄市长安区市场监督管理局", False),
        (str(w.amr_zhengding.pk), "正定县市场监督管理局&lt;&amp;&gt;", False)]


def test_chosen_region_narrows_the_agencies_and_both_choices_stay_selected(portal_world):
    w = portal_world
    html = Client().get(f"/decisions/?region=130123&agency={w.amr_zhengding.pk}").content.decode()
    regions = _select(html, "region")
    assert [value for value, _, selected in regions if selected] == ["130123"]
    assert _select(html, "agency") == [("", "全部部门", False),
                                        (str(w.amr_zhengding.pk), "正定县市场监督管理局&lt;&amp;&gt;", True)]


def test_unknown_region_lists_no_agency_and_selects_nothing(portal_world):
    html = Client().get("/decisions/?region=139999").content.decode()
    assert not [value for value, _, selected in _select(html, "region") if selected]
    assert _select(html, "agency") == [("", "全部部门", False)]


def test_filter_choices_are_plain_tuples_not_model_instances(portal_world):
    w = portal_world
    choices = portal_filter_choices(region_code="130100")
    assert choices.regions[0] == ("130000", "河北省", False)
    assert ("130102", "长安区", True) in choices.regions
    assert choices.agencies == [(w.amr_changan.pk, "石家庄市长安区市场监督管理局"),
                                (w.amr_zhengding.pk, "正定县市场监督管理局<&>")]


def test_an_agency_saved_in_this_process_is_on_the_very_next_search_form(portal_world):
    w = portal_world
    assert "辛集市场监督管理局" not in Client().get("/decisions/").content.decode()
    services.create_agency(actor="test-fixture", name="辛集市场监督管理局", region=w.changan, kind="market_regulation",
                           credit_code=make_credit_code(region_code="130102", serial=900))
    renamed = Agency.objects.get(pk=w.amr_changan.pk)
    renamed.name = "长安区市场监管局"
    renamed.save()
    labels = [label for _, label, _ in _select(Client().get("/decisions/").content.decode(), "agency")]
    assert "辛集市场监督管理局" in labels and "长安区市场监管局" in labels
    assert "石家庄市长安区市场监督管理局" not in labels


def test_a_change_another_process_made_reaches_the_search_form_within_the_time_limit(portal_world, monkeypatch):
    w = portal_world
    assert "正定县市场监督管理局&lt;&amp;&gt;" in Client().get("/decisions/").content.decode()
    # update() saves no instance: as unseen here as another web process's change.
    Agency.objects.filter(pk=w.amr_zhengding.pk).update(name="正定县市场监管局")
    held = Client().get("/decisions/").content.decode()
    assert "正定县市场监督管理局&lt;&amp;&gt;" in held and "正定县市场监管局" not in held
    later = selectors.time.monotonic() + selectors.PORTAL_LISTS_SECONDS
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    labels = [label for _, label, _ in _select(Client().get("/decisions/").content.decode(), "agency")]
    assert "正定县市场监管局" in labels and "正定县市场监督管理局&lt;&amp;&gt;" not in labels


def test_the_lists_held_stay_bounded_whatever_region_codes_visitors_send(portal_world):
    for n in range(selectors.PORTAL_LISTS_HELD + 5):
        portal_filter_choices(region_code=f"9{n:05d}")
    assert len(selectors._portal_lists) <= selectors.PORTAL_LISTS_HELD
    assert portal_filter_choices(region_code="130100").agencies  # still read right
