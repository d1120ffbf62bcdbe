"""A page's score cards are read without a Django form per card (issue 19 item 2, second pass):
`forms.card_entry` must give exactly what `ScoreCardForm(...).entry()` gives, for every box
typed or left out, on both kinds of item; a refused page still builds the form, so the errors
and what was typed come back as before (tests/test_score_cards.py, test_score_page.py)."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlencode

from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from civicmark.assessments.forms import ScoreCardForm, card_entry
from civicmark.assessments.score_cards import PostedCard
from civicmark.scoring.writer import Conflict

# What people type, and what a crafted post sends: numbers, commas, blanks, NaN, exponents,
# too many places, negatives, huge values, ticks of every spelling, long text, bad versions.
TYPED = st.sampled_from(
    [
        "",
        " ",
        "0",
        "5",
        "5.5",
        " 5.5 ",
        "5.55",
        "12,5",
        "-1",
        "1E+30",
        "NaN",
        "inf",
        "abc",
        "99999",
        "100000.0",
        "3",
        "on",
        "off",
        "0x1",
        "１２",
        "true",
        "1",
        "7",
    ]
)
TEXT = st.one_of(TYPED, st.text(max_size=30), st.just("x" * 2001))
FIELDS = {"points": TYPED, "occurrences": TYPED, "na": TYPED, "reason": TEXT, "version": TEXT}


@st.composite
def posts(draw: st.DrawFn) -> tuple[SimpleNamespace, QueryDict]:
    item = SimpleNamespace(
        pk=draw(st.integers(1, 3)),
        code="A1",
        kind=draw(st.sampled_from(["points", "per_occurrence"])),
    )
    pairs = []
    for name, values in FIELDS.items():
        for _ in range(draw(st.integers(0, 2))):  # absent, once, or twice (the last one counts)
            pairs.append((f"i{draw(st.sampled_from([item.pk, 9]))}-{name}", draw(values)))
    return item, QueryDict(urlencode(pairs), mutable=False)


@settings(max_examples=600, deadline=None)
@given(posts())
def test_it_reads_a_card_exactly_as_its_form_does(post: tuple[SimpleNamespace, QueryDict]) -> None:
    item, data = post
    form = ScoreCardForm(data, item=item)
    assert card_entry(data, item) == form.entry()
    card = PostedCard(data, item)
    assert card.is_blank() == form.is_blank()
    assert card.entry() == form.entry()
    # A card refused by its boxes is refused by its form, with the same errors.
    assert (card.entry() is None) == (form.is_blank() or not form.is_valid())
    assert card.form.errors == form.errors


def test_it_puts_the_writers_refusal_on_the_form_it_shows_back() -> None:
    item = SimpleNamespace(pk=4, code="B2", kind="points")
    data = QueryDict(urlencode({"i4-points": "3", "i4-version": "2"}))
    card = PostedCard(data, item)
    assert card.entry() is not None
    card.refuse(Conflict("changed by someone else"))
    assert card.form.errors == {"points": ["changed by someone else"]}
    assert card.form["points"].value() == "3"  # what he typed, shown back
