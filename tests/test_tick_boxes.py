"""A checkbox is ticked only by its own value (issue 16's leftovers, item 3). Django's
CheckboxInput reads every text but "false" as ticked, so a box posted "0", "off" or "no" (a
script, a proxy, a hand-made form) was taken as ticked: every form of the house uses TickField."""

from __future__ import annotations

import inspect

import pytest
from django import forms
from django.apps import apps

from civicmark.core.formfields import TickField


class Boxes(forms.Form):
    plain = TickField()
    own = TickField(value="1")


@pytest.mark.parametrize("posted", ["0", "false", "False", "off", "OFF", "no", "", " ", "x"])
def test_it_leaves_a_box_unticked_for_any_other_value(posted):
    form = Boxes({"plain": posted, "own": posted})
    assert form.is_valid()
    assert form.cleaned_data == {"plain": False, "own": False}
    assert not form["plain"].value()


@pytest.mark.parametrize("posted", ["on", "1", "true", "True"])
def test_it_ticks_a_box_by_its_own_value_or_a_plain_yes(posted):
    form = Boxes({"plain": posted, "own": posted})
    assert form.is_valid()
    assert form.cleaned_data == {"plain": True, "own": True}


def test_it_renders_the_box_with_its_own_value():
    assert 'value="1"' in str(Boxes()["own"])
    assert "value=" not in str(Boxes()["plain"])  # a browser sends "on" for it
    assert "checked" in str(Boxes({"own": "1"})["own"])
    assert "checked" not in str(Boxes({"own": "0"})["own"])


def test_no_form_of_the_house_uses_django_s_checkbox():
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("civicmark."):
            continue
        for name in ("forms", "views", "places.forms"):
            try:
                module = __import__(f"{config.name}.{name}", fromlist=["_"])
            except ModuleNotFoundError:
                continue
            for klass in vars(module).values():
                if inspect.isclass(klass) and issubclass(klass, forms.BaseForm):
                    for field_name, field in klass.base_fields.items():
                        if isinstance(field, forms.BooleanField) and not isinstance(
                            field, TickField
                        ):
                            found.append(f"{module.__name__}.{klass.__name__}.{field_name}")
    assert not found, found


def test_the_score_card_reads_a_not_applicable_box_posted_0_as_unticked(scoring):
    from civicmark.assessments.forms import ScoreCardForm

    item = scoring["items"]["A2"]
    form = ScoreCardForm({f"i{item.pk}-points": "20", f"i{item.pk}-na": "0"}, item=item, score=None)
    form.is_valid()
    assert form.cleaned_data.get("na") is False
