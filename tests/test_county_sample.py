"""County accuracy (issue 17 item 1): the city draws a seeded sample, stratified by county, of
what each county pre-accepted; the round then covers it; each county's deviation from the city
(total, by item, outcomes changed) is shown to the city, and to each county for its own; a county
beyond the threshold gets the enlarged size at its next draw."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.assessments import panels
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.quality import sampling
from civicmark.quality.models import SampleDraw, SampleStratum, SamplingSettings
from civicmark.scoring import materialize
from civicmark.scoring.models import Score

# --- the pure draw ----------------------------------------------------------------------------

strata_st = st.dictionaries(
    st.sampled_from(["K1", "K2", "K3", "K4"]),
    st.sets(st.integers(min_value=1, max_value=500), max_size=40),
    max_size=4,
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(strata=strata_st, seed=st.integers(min_value=0, max_value=2**63 - 1), data=st.data())
def test_it_draws_the_same_sample_from_the_same_seed_whatever_the_order(strata, seed, data):
    sizes = {k: data.draw(st.integers(min_value=0, max_value=50)) for k in strata}
    first = sampling.draw(seed, {k: list(v) for k, v in strata.items()}, sizes)
    shuffled = {}
    for key in random.Random(seed).sample(sorted(strata), len(strata)):
        ids = list(strata[key])
        random.Random(seed + 1).shuffle(ids)
        shuffled[key] = ids
    assert sampling.draw(seed, shuffled, sizes) == first


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(strata=strata_st, seed=st.integers(min_value=0, max_value=2**63 - 1), data=st.data())
def test_it_draws_each_county_from_its_own_list_at_its_own_size(strata, seed, data):
    sizes = {k: data.draw(st.integers(min_value=0, max_value=50)) for k in strata}
    drawn = sampling.draw(seed, {k: list(v) for k, v in strata.items()}, sizes)
    assert set(drawn) == set(strata)
    for key, ids in drawn.items():
        assert set(ids) <= strata[key]
        assert len(ids) == len(set(ids)) == min(sizes[key], len(strata[key]))


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(strata=strata_st, seed=st.integers(min_value=0, max_value=2**31), data=st.data())
def test_it_keeps_one_countys_sample_whatever_another_countys_list(strata, seed, data):
    sizes = {k: 5 for k in strata}
    drawn = sampling.draw(seed, {k: list(v) for k, v in strata.items()}, sizes)
    changed = dict(strata) | {"K9": set(data.draw(st.sets(st.integers(1, 99), max_size=30)))}
    again = sampling.draw(seed, {k: list(v) for k, v in changed.items()}, sizes | {"K9": 5})
    assert {k: again[k] for k in strata} == drawn


def test_it_draws_differently_from_another_seed():
    population = {"K1": list(range(1, 101))}
    assert sampling.draw(1, population, {"K1": 10}) != sampling.draw(2, population, {"K1": 10})


sizes_st = st.builds(
    lambda kind, base, extra, threshold: sampling.Sizes(kind, base, base + extra, threshold),
    st.sampled_from(["share", "count"]),
    st.integers(min_value=1, max_value=50),
    st.integers(min_value=0, max_value=50),
    st.decimals(min_value=Decimal("0.01"), max_value=20, places=2),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(sizes=sizes_st, population=st.integers(min_value=0, max_value=400))
def test_it_sizes_each_county_as_configured(sizes, population):
    size, enlarged = sampling.size_for(population, sizes, None)
    assert not enlarged
    if sizes.kind == "count":
        assert size == min(population, sizes.base)
    elif population:
        # The share, rounded up, at least one, never more than the county pre-accepted.
        assert size == min(population, max(1, -(-population * sizes.base // 100)))
    else:
        assert size == 0


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    sizes=sizes_st,
    population=st.integers(min_value=1, max_value=400),
    over=st.decimals(min_value=Decimal("0.01"), max_value=50, places=2),
    under=st.decimals(min_value=0, max_value=1, places=2),
)
def test_it_samples_a_county_beyond_the_threshold_more(sizes, population, over, under):
    beyond, enlarged = sampling.size_for(population, sizes, sizes.threshold + over)
    within, kept = sampling.size_for(population, sizes, sizes.threshold * under)
    usual, _ = sampling.size_for(population, sizes, None)
    assert enlarged and not kept
    assert within == usual
    assert beyond >= usual
    enlarged_size = sampling.stratum_size(population, sizes.kind, sizes.enlarged)
    assert beyond == enlarged_size
    if sizes.enlarged > sizes.base and usual < population and sizes.kind == "count":
        assert beyond > usual


# --- the services -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(client_for):  # noqa: ANN001, ANN201
    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


@pytest.fixture
def camp(scoring, world):  # noqa: ANN001, ANN201
    """The city's campaign: every community pre-accepted and reported; the county round scored
    every item in full, the first municipal round (2) found C111 short by 25 points on A1."""
    s = scoring
    campaign = s["campaign"]
    campaign.enrollments.update(status="reported")
    round1, round2 = campaign.rounds.get(number=1), s["round"]
    assessor = s["assessors"][0]
    rows = []
    for code, e in s["enrollments"].items():
        for item in s["items"].values():
            rows.append(
                Score(round=round1, enrollment=e, item=item, assessor=assessor, points=item.points)
            )
            lost = Decimal(25) if (code, item.code) == ("C111", "A1") else Decimal(0)
            rows.append(
                Score(
                    round=round2,
                    enrollment=e,
                    item=item,
                    assessor=assessor,
                    points=item.points - lost,
                    reason="不足" if lost else "",
                )
            )
    Score.objects.bulk_create(rows)
    materialize.refresh(round1)
    return s | {"round1": round1, "round2": round2, "round3": campaign.rounds.get(number=3)}


def _state():  # noqa: ANN202
    return (
        SampleDraw.objects.count(),
        SampleStratum.objects.count(),
        SamplingSettings.objects.count(),
        AuditEvent.objects.count(),
        sorted(SamplingSettings.objects.values_list("base", "enlarged", "threshold")),
    )


def _counts(draw):  # noqa: ANN001, ANN202
    return {s.county.code: (s.population, s.size) for s in draw.strata.all()}


def test_it_draws_a_seeded_stratified_sample_and_records_the_seed(camp, world):
    draw = sampling.sample_draw(actor=world.users["city_admin"], round_=camp["round2"], seed=42)
    assert draw.seed == 42 and draw.county_round == camp["round1"]
    # A fifth of each county's list, rounded up: one of K1's three, K2's one.
    assert _counts(draw) == {"K1": (3, 1), "K2": (1, 1)}
    again = sampling.draw(
        42,
        {
            c.code: sampling.pre_accepted(camp["campaign"], c)
            for c in sampling.counties(camp["campaign"])
        },
        {"K1": 1, "K2": 1},
    )
    assert {
        s.county.code: sorted(s.communities.values_list("pk", flat=True)) for s in draw.strata.all()
    } == again
    event = AuditEvent.objects.get(action="sample.drawn")
    assert event.after["seed"] == "42" and event.after["strata"]["K1"]["size"] == 1


def test_it_draws_among_pre_accepted_communities_only(camp, world):
    camp["campaign"].enrollments.filter(community__code__in=["C111", "C112"]).update(
        status="town_reviewed"
    )
    draw = sampling.sample_draw(actor=world.users["city_admin"], round_=camp["round2"], seed=7)
    k1 = draw.strata.get(county__code="K1")
    assert k1.population == 1
    assert list(k1.communities.values_list("community__code", flat=True)) == ["C121"]


def test_it_has_the_round_cover_the_drawn_communities_through_its_service(camp, world):
    """Round 3 (November) covers by default only what fell short or was vetoed: the draw adds
    what it drew, through the round's own coverage service (its audit event beside the draw's)."""
    round3 = camp["round3"]
    camp["campaign"].enrollments.update(status="standard_unit")
    assert not panels.covered_ids(round3)
    SamplingSettings.objects.create(
        campaign=camp["campaign"], kind="count", base=2, enlarged=3, threshold=Decimal(5)
    )
    draw = sampling.sample_draw(actor=world.users["city_admin"], round_=round3, seed=3)
    drawn = {pk for s in draw.strata.all() for pk in s.communities.values_list("pk", flat=True)}
    assert len(drawn) == 3
    round3.refresh_from_db()
    assert panels.covered_ids(round3) == drawn
    assert AuditEvent.objects.filter(action="round.configured").count() == 1


def test_it_shows_each_countys_deviation_by_total_item_and_outcome(camp, world):
    SamplingSettings.objects.create(
        campaign=camp["campaign"], kind="count", base=3, enlarged=3, threshold=Decimal(5)
    )
    draw = sampling.sample_draw(actor=world.users["city_admin"], round_=camp["round2"], seed=1)
    figures = {f.stratum.county.code: f for f in sampling.figures_of(draw)}
    k1, k2 = figures["K1"], figures["K2"]
    assert len(k1.compared) == 3
    assert k1.mean == Decimal("-8.33")  # C111 lost 25 points, the two others none
    assert k1.mean_abs == Decimal("8.33")
    assert k1.changed == 1 and k1.changed_share == Decimal("33.3")  # 100 -> 75: not reached
    assert {i.item.code: i.mean for i in k1.items} == {
        "A1": Decimal("-8.33"),
        "A2": Decimal("0.00"),
        "B1": Decimal("0.00"),
        "B2": Decimal("0.00"),
    }
    assert k1.beyond and not k2.beyond
    assert (k2.mean, k2.changed_share) == (Decimal("0.00"), Decimal("0.0"))


def test_it_enlarges_the_next_sample_of_a_county_beyond_the_threshold(camp, world):
    city = world.users["city_admin"]
    SamplingSettings.objects.create(
        campaign=camp["campaign"], kind="count", base=1, enlarged=3, threshold=Decimal(5)
    )
    first = sampling.sample_draw(actor=city, round_=camp["round2"], seed=0)
    # Whichever K1 community was drawn, make the city find it 25 points short.
    drawn = first.strata.get(county__code="K1").communities.get()
    Score.objects.filter(round=camp["round2"], item__code="A1").update(points=30)
    Score.objects.filter(round=camp["round2"], enrollment=drawn, item__code="A1").update(points=5)
    materialize.refresh(camp["round2"])
    assert sampling.figures_of(first)[0].mean_abs == Decimal("25.00")
    second = sampling.sample_draw(actor=city, round_=camp["round3"], seed=0)
    k1, k2 = second.strata.get(county__code="K1"), second.strata.get(county__code="K2")
    assert (k1.size, k1.enlarged, k1.previous_deviation) == (3, True, Decimal("25.00"))
    assert (k2.size, k2.enlarged, k2.previous_deviation) == (1, False, Decimal("0.00"))


@pytest.mark.parametrize(
    "who",
    [
        "county_officer",
        "other_county_officer",
        "town_officer",
        "community_staff",
        "assessor",
        "viewer",
        "nobody",
    ],
)
def test_it_refuses_a_draw_or_sizes_to_anyone_but_the_city_and_changes_nothing(camp, world, who):
    before = _state()
    with pytest.raises(NotAllowed):
        sampling.sample_draw(actor=world.users[who], round_=camp["round2"], seed=1)
    with pytest.raises(NotAllowed):
        sampling.sampling_settings_save(
            actor=world.users[who],
            round_=camp["round2"],
            kind="count",
            base=1,
            enlarged=2,
            threshold=Decimal(1),
        )
    assert _state() == before


def test_it_draws_once_and_only_in_an_open_municipal_round(camp, world):
    city = world.users["city_admin"]
    with pytest.raises(NotAllowed, match="municipal round only"):
        sampling.sample_draw(actor=city, round_=camp["round1"], seed=1)
    sampling.sample_draw(actor=city, round_=camp["round2"], seed=1)
    before = _state()
    with pytest.raises(ApplicationError, match="drawn already"):
        sampling.sample_draw(actor=city, round_=camp["round2"], seed=2)
    camp["round3"].finalised_at = timezone.now()
    camp["round3"].save(update_fields=["finalised_at"])
    with pytest.raises(ApplicationError, match="finalised"):
        sampling.sample_draw(actor=city, round_=camp["round3"], seed=2)
    assert _state() == before


def test_it_saves_the_sizes_with_an_audit_event_and_refuses_bad_ones(camp, world):
    city = world.users["city_admin"]
    before = _state()
    with pytest.raises(ApplicationError, match="at least the usual size"):
        sampling.sampling_settings_save(
            actor=city,
            round_=camp["round2"],
            kind="count",
            base=3,
            enlarged=2,
            threshold=Decimal(1),
        )
    with pytest.raises(ApplicationError, match="at most 100"):
        sampling.sampling_settings_save(
            actor=city,
            round_=camp["round2"],
            kind="share",
            base=30,
            enlarged=120,
            threshold=Decimal(1),
        )
    assert _state() == before
    sampling.sampling_settings_save(
        actor=city, round_=camp["round2"], kind="count", base=2, enlarged=4, threshold=Decimal(2)
    )
    assert sampling.sizes_of(camp["campaign"]) == sampling.Sizes("count", 2, 4, Decimal(2))
    event = AuditEvent.objects.get(action="sample.settings_saved")
    assert event.before["base"] == "20" and event.after["base"] == "2"


# --- the pages --------------------------------------------------------------------------------


def _url(name, s, round_="round2", *extra):  # noqa: ANN001, ANN202
    return reverse(name, args=[s["campaign"].slug, s[round_].number, *extra])


def test_it_shows_the_city_every_county_and_each_county_its_own(camp, world, client_for):
    sampling.sample_draw(actor=world.users["city_admin"], round_=camp["round2"], seed=1)
    page = client_for(world.users["city_admin"]).get(_url("sample_overview", camp))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="county-K1"' in text and 'data-testid="county-K2"' in text
    assert "seed 1" in text
    officer = client_for(world.users["county_officer"])
    assert officer.get(_url("sample_overview", camp)).url == _url(
        "sample_county", camp, "round2", "K1"
    )
    own = officer.get(_url("sample_county", camp, "round2", "K1"))
    assert own.status_code == 200 and 'data-testid="county-K1"' in own.content.decode()
    assert officer.get(_url("sample_county", camp, "round2", "K2")).status_code == 404


@pytest.mark.parametrize("who", ["town_officer", "community_staff", "assessor", "viewer", "nobody"])
def test_it_answers_404_to_anyone_else(camp, world, client_for, who):
    sampling.sample_draw(actor=world.users["city_admin"], round_=camp["round2"], seed=1)
    client = client_for(world.users[who])
    assert client.get(_url("sample_overview", camp)).status_code == 404
    assert client.get(_url("sample_county", camp, "round2", "K1")).status_code == 404


def test_it_draws_from_the_page_and_keeps_a_refused_seed_beside_its_box(camp, world, client_for):
    client = client_for(world.users["city_admin"])
    before = _state()
    refused = client.post(_url("sample_draw", camp), {"seed": "12x"})
    assert refused.status_code == 400 and _state() == before
    text = refused.content.decode()
    assert 'value="12x"' in text and "text-danger" in text
    done = client.post(_url("sample_draw", camp), {"seed": "99"})
    assert done.status_code == 302
    assert SampleDraw.objects.get().seed == 99
    again = client.post(_url("sample_draw", camp), {"seed": "5"})
    assert again.status_code == 400 and "drawn already" in again.content.decode()


def test_it_saves_the_sizes_from_the_page_and_shows_a_refusal_beside_its_field(
    camp, world, client_for
):
    client = client_for(world.users["city_admin"])
    bad = {"kind": "count", "base": "4", "enlarged": "2", "threshold": "3"}
    refused = client.post(_url("sample_settings", camp), bad)
    assert refused.status_code == 400 and not SamplingSettings.objects.exists()
    assert "at least the usual size" in refused.content.decode()
    ok = client.post(_url("sample_settings", camp), bad | {"enlarged": "6"})
    assert ok.status_code == 302
    assert SamplingSettings.objects.get().enlarged == 6


def test_the_demo_shows_a_county_sample_with_its_deviation(demo, client_for):
    """The demo drew July's sample with seed 2026 before the city scored; the county officer
    reads his county's deviation (the county was lenient) and the city every county."""
    from civicmark.accounts.models import User

    round2 = demo.rounds.get(number=2)
    draw = SampleDraw.objects.get(round=round2)
    assert draw.seed == 2026
    (figures,) = sampling.figures_of(draw)
    assert figures.stratum.size == len(figures.compared) > 0
    assert figures.mean is not None and figures.mean < 0
    county = figures.stratum.county.code
    page = client_for(User.objects.get(username="county")).get(
        reverse("sample_county", args=[demo.slug, 2, county])
    )
    assert page.status_code == 200
    assert f'data-testid="mean">{figures.mean}<' in page.content.decode()
    city = client_for(User.objects.get(username="city")).get(
        reverse("sample_overview", args=[demo.slug, 2])
    )
    assert city.status_code == 200 and f"county-{county}" in city.content.decode()


HOSTILE = ["-1", "1E+30", "NaN", "9" * 40, "１２", "-3", "a\x00b", "=1+1", "长" * 500, "0x10"]


@pytest.mark.parametrize("value", HOSTILE)
def test_it_refuses_a_hostile_seed_or_size_beside_its_field_and_writes_nothing(
    camp, world, client_for, value
):
    client = client_for(world.users["city_admin"])
    before = _state()
    drawn = client.post(_url("sample_draw", camp), {"seed": value})
    assert drawn.status_code == 400 and "text-danger" in drawn.content.decode()
    for field in ("base", "enlarged", "threshold", "kind"):
        data = {"kind": "count", "base": "2", "enlarged": "4", "threshold": "2"} | {field: value}
        sized = client.post(_url("sample_settings", camp), data)
        assert sized.status_code == 400 and "text-danger" in sized.content.decode()
    assert _state() == before


def test_the_signed_off_rounds_page_links_its_quality_pages_to_the_lead_and_the_county(
    demo, client_for
):
    """The walk: once July's round was signed off, its page linked none of its quality pages
    (calibration, drift, the county sample, appeals, the public notice) to the city, since the
    links sat behind "may still configure the round"; a county officer found his county's
    figures only by typing the address."""
    from civicmark.accounts.models import User

    round2 = demo.rounds.get(number=2)
    assert round2.finalised_at is not None
    url = reverse("round_detail", args=[demo.slug, 2])
    city = client_for(User.objects.get(username="city")).get(url).content.decode()
    for link in ("calibration-link", "drift-link", "sample-link", "appeals-link", "notices-link"):
        assert f'data-testid="{link}"' in city, link
    county = client_for(User.objects.get(username="county")).get(url).content.decode()
    assert 'data-testid="sample-link"' in county
    assert 'data-testid="appeals-link"' not in county and 'data-testid="drift-link"' not in county
    town = client_for(User.objects.get(username="town")).get(url)
    assert 'data-testid="sample-link"' not in town.content.decode()
