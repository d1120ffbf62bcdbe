"""Survey codes are limited per code and per community's survey, in the cache that every worker
shares, never per address: a whole estate behind one address answers, a brute force against one
community is slowed with a message that says why and how long (issue 14, ADR 9)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from civicmark.surveys import services as svc
from civicmark.surveys.models import Draw, Response
from tests.test_surveys import survey  # noqa: F401  (the fixture)

HOME = "10.20.30.40"  # one public address for a whole estate (carrier-grade NAT, one Wi-Fi)
ANSWERS = {"Q1": "4", "Q2": "5"}


@pytest.fixture
def limits(settings):  # noqa: ANN001, ANN201
    settings.SURVEY_CODE_WINDOW_SECONDS = 600
    settings.SURVEY_CODE_FAILURES = 3
    settings.SURVEY_COMMUNITY_FAILURES = 8
    settings.SURVEY_UNKNOWN_FAILURES = 10
    return settings


@pytest.fixture
def two_draws(survey, world):  # noqa: ANN001, ANN201, F811
    city = world.users["city_admin"]
    frame = "小区,楼栋,门牌\n" + "".join(f"和平里,1栋,{n}\n" for n in range(101, 121))
    svc.frame_import(actor=city, community=world.d["C112"], data=frame.encode(), filename="f.csv")
    return (
        svc.draw_households(actor=city, survey=survey["survey"], community=world.d["C111"]),
        svc.draw_households(actor=city, survey=survey["survey"], community=world.d["C112"]),
    )


def _codes(draw: Draw) -> list[str]:
    return [d.code for d in draw.households.filter(in_sample=True).order_by("position")]


def _wrong(draw: Draw, n: int) -> str:
    """A code that claims to be of this draw (its tag) and is none of its codes."""
    code = f"{draw.tag}{n:08d}"
    assert not draw.households.filter(code=code).exists()
    return code


def _open(client: Client, code: str, addr: str = HOME) -> Any:
    return client.get(reverse("survey_answer", args=[code]), REMOTE_ADDR=addr)


def _answer(client: Client, code: str, addr: str = HOME) -> Any:
    return client.post(reverse("survey_answer", args=[code]), ANSWERS, REMOTE_ADDR=addr)


def test_it_gives_each_draw_a_tag_that_starts_its_codes(two_draws):
    first, second = two_draws
    assert first.tag != second.tag and len(first.tag) == 4
    for draw in two_draws:
        assert all(c.startswith(draw.tag) and len(c) == 12 for c in _codes(draw))


def test_it_lets_a_whole_estate_behind_one_address_answer(limits, two_draws, client):
    """The finding: one person behind a shared address locked out every resident."""
    here, elsewhere = two_draws
    codes = _codes(here)

    def everyone_answers(codes: list[str]) -> None:
        for code in codes:
            page = _open(client, code)
            assert page.status_code == 200 and 'name="Q1"' in page.content.decode()
            assert 'data-testid="thanks"' in _answer(client, code).content.decode()

    # Someone on the estate's Wi-Fi types codes at random, far past any per-address limit...
    for n in range(30):
        _open(client, f"JUNK{n:04d}")
    everyone_answers(codes[:6])  # ...and the households of this community still answer,
    for n in range(limits.SURVEY_COMMUNITY_FAILURES + 5):  # even while he tries another's codes
        _open(client, _wrong(elsewhere, n))
    everyone_answers(codes[6:])
    assert Response.objects.filter(community=here.community).count() == len(codes)


def test_a_brute_force_against_one_community_is_slowed_with_a_clear_message(
    limits, two_draws, client
):
    target, other = two_draws
    attacker = Client()
    addresses = (f"198.51.100.{n}" for n in range(1, 255))  # a new address for every try
    for n in range(limits.SURVEY_COMMUNITY_FAILURES):
        assert _open(attacker, _wrong(target, n), next(addresses)).status_code == 200
    slowed = _open(attacker, _wrong(target, 99), next(addresses))
    assert slowed.status_code == 429 and slowed["Retry-After"] == "600"
    text = slowed.content.decode()
    assert 'data-testid="too-many"' in text and "10" in text  # minutes to wait
    # While it lasts, no code of that community is checked at all: a valid one is not told
    # apart from a wrong one (or the limit would be an oracle), and nothing is stored.
    real = _codes(target)[0]
    assert _open(attacker, real, next(addresses)).status_code == 429
    assert _answer(client, real).status_code == 429
    assert not Response.objects.exists()
    # Another community's residents are not slowed by it.
    assert _answer(client, _codes(other)[0]).status_code == 200
    assert Response.objects.filter(community=other.community).count() == 1


def test_a_code_tried_too_often_waits_and_its_neighbours_do_not(limits, two_draws, client):
    here, _ = two_draws
    used, neighbour = _codes(here)[:2]
    assert _answer(client, used).status_code == 200
    for _n in range(limits.SURVEY_CODE_FAILURES):
        page = _open(client, used)
        assert page.status_code == 200 and 'data-testid="code-refused"' in page.content.decode()
    assert _open(client, used).status_code == 429
    assert _open(client, neighbour).status_code == 200


def test_codes_that_belong_to_no_survey_are_limited_together(limits, two_draws, client):
    here, _ = two_draws
    for n in range(limits.SURVEY_UNKNOWN_FAILURES):
        assert _open(client, f"NOPE{n:04d}").status_code == 200
    assert _open(client, "NOPE9999").status_code == 429
    assert _open(client, _codes(here)[0]).status_code == 200  # a real code is not among them


def test_a_correct_answer_costs_no_try(limits, two_draws, client):
    here, _ = two_draws
    codes = _codes(here)
    for _n in range(limits.SURVEY_COMMUNITY_FAILURES - 1):
        _open(client, _wrong(here, _n))
    for code in codes:  # far more opens and answers than the limit: none is a failure
        assert _open(client, code).status_code == 200
        assert _answer(client, code).status_code == 200
    assert _open(client, _wrong(here, 50)).status_code == 200  # the last try left
    assert _open(client, _wrong(here, 51)).status_code == 429


# --- Two workers, one cache ------------------------------------------------------------------


@contextmanager
def _worker(server: Any) -> Iterator[None]:
    """One application worker: its own connection to the one Redis that every worker shares
    (fakeredis's server stands in for it; the cache backend is Django's own RedisCache, as in
    production with REDIS_URL)."""
    import fakeredis

    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://redis.invalid:6379/0",
                "OPTIONS": {
                    "connection_class": fakeredis.FakeRedisConnection,
                    "server": server,
                },
            }
        }
    ):
        from django.core.cache import caches
        from django.core.cache.backends.redis import RedisCache

        assert isinstance(caches["default"], RedisCache)
        yield


def test_two_workers_count_the_same_tries(limits, two_draws):
    import fakeredis

    target, _ = two_draws
    server = fakeredis.FakeServer()
    one, two = Client(), Client()
    for n in range(limits.SURVEY_COMMUNITY_FAILURES):  # half the tries reach each worker
        client, addr = (one, "10.0.0.1") if n % 2 else (two, "10.0.0.2")
        with _worker(server):
            assert _open(client, _wrong(target, n), addr).status_code == 200
    for client, addr in ((one, "10.0.0.1"), (two, "10.0.0.2")):
        with _worker(server):
            assert _open(client, _wrong(target, 77), addr).status_code == 429
    # The count is in the shared cache, not in either worker: a third one sees it too.
    with _worker(server):
        assert _open(Client(), _codes(target)[0], "10.0.0.3").status_code == 429


def test_workers_with_caches_of_their_own_would_each_count_half(limits, two_draws):
    """The control for the test above: the same tries spread over two caches that are not
    shared (each process's local memory, before REDIS_URL) lock nothing."""
    import fakeredis

    _, target = two_draws
    servers = (fakeredis.FakeServer(), fakeredis.FakeServer())
    clients = (Client(), Client())
    for n in range(limits.SURVEY_COMMUNITY_FAILURES):
        with _worker(servers[n % 2]):
            assert _open(clients[n % 2], _wrong(target, n)).status_code == 200
    with _worker(servers[0]):
        assert _open(clients[0], _wrong(target, 77)).status_code == 200


def test_a_resident_half_way_through_is_not_turned_away_by_a_limit_reached_meanwhile(
    limits, two_draws, client
):
    here, _ = two_draws
    code = _codes(here)[0]
    page = _open(client, code).content.decode()
    note = page.split('name="opened" value="')[1].split('"')[0]
    for n in range(limits.SURVEY_COMMUNITY_FAILURES):  # meanwhile, someone guesses
        _open(Client(), _wrong(here, n), f"203.0.113.{n}")
    assert _open(client, _codes(here)[1]).status_code == 429  # the community waits...
    sent = client.post(
        reverse("survey_answer", args=[code]), {**ANSWERS, "opened": note}, REMOTE_ADDR=HOME
    )
    assert sent.status_code == 200 and 'data-testid="thanks"' in sent.content.decode()
    # ...and the note is worth nothing for another code, or forged.
    other = _codes(here)[1]
    for forged in (note, note[:-2] + "xx", ""):
        refused = client.post(reverse("survey_answer", args=[other]), {**ANSWERS, "opened": forged})
        assert refused.status_code == 429
    assert Response.objects.count() == 1


def test_a_code_typed_as_the_card_prints_it_or_with_slips_opens(limits, two_draws, client, world):
    from civicmark.surveys.models import Drawn
    from civicmark.surveys.throttle import spaced

    here, _ = two_draws
    code = f"{here.tag}0A1B2C3D"  # with the digits that O, I and L are read as
    Drawn.objects.filter(code=_codes(here)[0]).update(code=code)
    city = Client()
    city.force_login(world.users["city_admin"])
    cards = city.get(reverse("survey_cards", args=[here.survey.public_id, "C111"]))
    assert spaced(code) in cards.content.decode()  # printed in groups of four
    typed = spaced(code).lower().replace("0", "o").replace("1", "l").replace(" ", " - ")
    page = client.get(reverse("survey_answer_start"), {"code": typed}, REMOTE_ADDR=HOME)
    assert page.status_code == 200 and 'name="Q1"' in page.content.decode()


@pytest.mark.parametrize(
    "typed", ["AB\x00CD1234EFGH", "\u202eABCD", "A" * 10_000, "../..", "%00", "１２３４ＡＢＣＤ"]
)
def test_a_hostile_code_is_a_wrong_code_not_an_error(limits, two_draws, client, typed):
    page = client.get(reverse("survey_answer_start"), {"code": typed})
    assert page.status_code == 200 and not Response.objects.exists()
