"""Score entry under load against a fair baseline (issue 19 item 2), in one gunicorn.

The real save (a page of one department's items for one community, through the score page) is
measured beside the least an authenticated, audited write can do here (`bench/write/`,
civicmark/bench/urls.py: the same middleware, one read of the grants, one score-like row and one
audit event in one transaction), at each number of clients, one after the other in the same
server; a bare constant view once, for scale; the JSON API's score write after the page's, over
the same communities (ADR 24). Bars, at every number of clients: the real save at
least 60% of the baseline's throughput, its p99 at most 3 times the baseline's, no lost update on
either side (every accepted write is in the database with what was sent).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from civicmark.bench.load import PASSWORD, emit, free_port, gunicorn, post, run_load

BARS = {"throughput_ratio_min": 0.60, "p99_ratio_max": 3.0}


@dataclass
class Assessors:
    """The bench's assessors (one per client), each on one department's items."""

    users: list[str]
    depts: list[int]
    items_of: dict[int, list[tuple[int, Decimal]]]
    codes: list[str]
    enrollment_of: dict[str, int]
    real_round: Any  # the round scored through the page (2)
    baseline_round: Any  # the round the baseline's rows go to (1): apart from the real ones

    def code(self, index: int, n: int, clients: int) -> str:
        """The community of client `index`'s n-th save: each client walks its own stretch of the
        list, so no assessor meets a community twice before he has seen them all, and the
        clients stay on different communities at any moment."""
        return self.codes[(index * (len(self.codes) // clients) + n) % len(self.codes)]

    def forget(self) -> None:
        """An earlier run's rows: each run starts with first scores."""
        from civicmark.scoring.models import Score

        Score.objects.filter(
            round__in=[self.real_round, self.baseline_round], assessor__username__in=self.users
        ).delete()


def assessors(campaign: Any, clients: int) -> Assessors:
    from django.contrib.auth.hashers import make_password

    from civicmark.accounts.models import RoleAssignment, User
    from civicmark.divisions.models import Department

    departments = list(
        Department.objects.filter(pk__in=campaign.standard.items.values("department")).order_by(
            "code"
        )
    )
    items_of = {
        d.pk: list(campaign.standard.items.filter(department=d).values_list("pk", "points"))
        for d in departments
    }
    password = make_password(PASSWORD)
    users, depts = [], []
    for n in range(clients):
        dept = departments[n % len(departments)]
        user, _ = User.objects.update_or_create(
            username=f"bench-{n}", defaults={"full_name": f"压测考核员{n}", "password": password}
        )
        RoleAssignment.objects.get_or_create(
            user=user, role="assessor", division=campaign.division, department=dept
        )
        users.append(user.username)
        depts.append(dept.pk)
    enrollment_of = dict(
        campaign.enrollments.order_by("community__code").values_list("community__code", "pk")
    )
    return Assessors(
        users=users,
        depts=depts,
        items_of=items_of,
        codes=list(enrollment_of),
        enrollment_of=enrollment_of,
        real_round=campaign.rounds.get(number=2),
        baseline_round=campaign.rounds.get(number=1),
    )


def server_env() -> dict[str, str]:
    """The benchmark's gunicorn: production settings, the bench's URLconf (its baselines)."""
    return os.environ | {
        "CIVICMARK_URLCONF": "civicmark.bench.urls",
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "b" * 64,
        # The API's per-token limit would stop the load it measures.
        "CIVICMARK_API_RATE": "10000000",
    }


def real_save(base: str, slug: str, who: Assessors, clients: int) -> Any:
    def save(index: int, opener: Any, token: str, n: int) -> tuple[bool, Any]:
        code = who.code(index, n, clients)
        fields = {"csrfmiddlewaretoken": token}
        for pk, points in who.items_of[who.depts[index]]:
            fields[f"i{pk}-points"] = str(points - Decimal("0.5"))
            fields[f"i{pk}-reason"] = f"压测{n}"
        answer = post(opener, f"{base}/campaigns/{slug}/rounds/2/score/{code}/", fields)
        if answer.status == 302:
            return True, (who.users[index], code, answer.backend)
        if answer.status == 200:
            return False, "the form was refused"
        return False, f"{answer.status} {answer.body!r}"

    return save


def baseline_write(base: str, who: Assessors, clients: int) -> Any:
    def write(index: int, opener: Any, token: str, n: int) -> tuple[bool, Any]:
        code = who.code(index, n, clients)
        items = who.items_of[who.depts[index]]
        pk, points = items[(n // len(who.codes)) % len(items)]
        fields = {
            "csrfmiddlewaretoken": token,
            "round": str(who.baseline_round.pk),
            "enrollment": str(who.enrollment_of[code]),
            "item": str(pk),
            "points": str(points - Decimal("0.5")),
            "reason": f"压测{n}",
        }
        answer = post(opener, f"{base}/bench/write/", fields)
        if answer.status == 302:
            return True, (who.users[index], code, pk)
        return False, f"{answer.status} {answer.body!r}"

    return write


def bearer_tokens(who: Assessors) -> list[str]:
    """A write token for each assessor (the JSON API, ADR 24), made afresh for the run."""
    from datetime import timedelta

    from django.utils import timezone

    from civicmark.accounts.models import AccessToken, User
    from civicmark.accounts.tokens import token_create

    AccessToken.objects.filter(user__username__in=who.users).delete()
    now = timezone.now()
    return [
        token_create(
            actor=User.objects.get(username=u),
            name="bench",
            expires_at=now + timedelta(days=1),
            scope="write",
            now=now,
            verified=True,
        )[1]
        for u in who.users
    ]


def api_save(base: str, campaign: Any, who: Assessors, clients: int, tokens: list[str]) -> Any:
    """The same scores through the JSON API (ADR 24): a bearer token, a JSON body, the same
    writer; the version each row is at after the page's saves is read first. The points stay
    those the page gave (the lost-update check reads them); the reason changes, so every save is
    a real change."""
    item_codes = dict(campaign.standard.items.values_list("pk", "code"))

    def save(index: int, opener: Any, token: str, n: int) -> tuple[bool, Any]:
        code = who.code(index, n, clients)
        url = f"{base}/api/campaigns/{campaign.slug}/rounds/2/scores/{code}"
        auth = {"Authorization": f"Bearer {tokens[index]}"}
        with urllib.request.urlopen(urllib.request.Request(url, headers=auth)) as response:
            versions = {r["item"]: r["version"] for r in json.loads(response.read())}
        body = {
            "scores": [
                {
                    "item": item_codes[pk],
                    "points": str(points - Decimal("0.5")),
                    "reason": f"接口压测{n}",
                    "version": versions.get(item_codes[pk]),
                }
                for pk, points in who.items_of[who.depts[index]]
            ]
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            method="PUT",
            headers={**auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.status == 200, (who.users[index], code)
        except urllib.error.HTTPError as exc:
            return False, f"{exc.code} {exc.read()[:200]!r}"

    return save


def lost_real(who: Assessors, done: list[Any]) -> tuple[int, int]:
    """Accepted saves not in the database as sent, and stored values not what was sent."""
    from civicmark.scoring.models import Score

    rows = Score.objects.filter(round=who.real_round, assessor__username__in=who.users)
    points_of = {pk: p for v in who.items_of.values() for pk, p in v}
    found: dict[tuple[str, str], int] = {}
    wrong = 0
    for username, code, item, points in rows.values_list(
        "assessor__username", "enrollment__community__code", "item", "points"
    ):
        found[(username, code)] = found.get((username, code), 0) + 1
        wrong += points != points_of[item] - Decimal("0.5")
    per_user = {u: len(who.items_of[d]) for u, d in zip(who.users, who.depts, strict=True)}
    lost = sum(1 for (u, code) in {d[:2] for d in done} if found.get((u, code), 0) != per_user[u])
    return lost, wrong


def lost_baseline(who: Assessors, done: list[Any]) -> tuple[int, int]:
    from civicmark.scoring.models import Score

    points_of = {pk: p for v in who.items_of.values() for pk, p in v}
    stored = {
        (u, code, item): points
        for u, code, item, points in Score.objects.filter(
            round=who.baseline_round, assessor__username__in=who.users
        ).values_list("assessor__username", "enrollment__community__code", "item", "points")
    }
    lost = sum(1 for key in set(done) if key not in stored)
    wrong = sum(1 for (_u, _c, item), p in stored.items() if p != points_of[item] - Decimal("0.5"))
    return lost, wrong


def bars(real: dict[str, Any], base: dict[str, Any], lost: int) -> dict[str, str]:
    ratio = real["rps"] / base["rps"] if base["rps"] else 0.0
    p99 = real["p99_ms"] / base["p99_ms"] if base["p99_ms"] else float("inf")
    verdict = {True: "pass", False: "FAIL"}
    return {
        f"throughput >= {BARS['throughput_ratio_min']:.0%} of baseline": verdict[
            ratio >= BARS["throughput_ratio_min"]
        ],
        f"p99 <= {BARS['p99_ratio_max']:g}x baseline p99": verdict[p99 <= BARS["p99_ratio_max"]],
        "0 lost updates": verdict[lost == 0],
    }


def bench_score_entry(
    campaign: Any, levels: list[int], seconds: float, workers: int
) -> list[dict[str, Any]]:
    """The real save and the fair baseline at each number of clients, in one gunicorn of
    `workers` workers; one figure per number of clients (also returned)."""
    who = assessors(campaign, max(levels))
    tokens = bearer_tokens(who)
    figures = []
    with gunicorn(free_port(), workers, server_env()) as base:

        def bare(index: int, opener: Any, token: str, n: int) -> tuple[bool, Any]:
            with opener.open(f"{base}/bench/bare/") as response:
                return response.status == 200, None

        constant = run_load(base, levels[0], seconds, bare, [None] * levels[0])
        for clients in levels:
            users: list[str | None] = list(who.users[:clients])
            who.forget()
            floor = run_load(base, clients, seconds, baseline_write(base, who, clients), users)
            entry = run_load(
                base, clients, seconds, real_save(base, campaign.slug, who, clients), users
            )
            # The API's score write beside the page's, in the same server and run: a GET of the
            # versions and a PUT of the same items per save (two requests where the page posts
            # once), over the communities the page has just scored.
            api = run_load(
                base,
                clients,
                seconds,
                api_save(base, campaign, who, clients, tokens),
                [None] * clients,
            )
            lost, wrong = lost_real(who, entry["done"])
            base_lost, base_wrong = lost_baseline(who, floor["done"])
            figure = {
                "figure": f"score entry vs fair baseline ({clients} clients, {seconds:.0f} s, "
                f"{workers} workers)",
                "sessions": "database + Redis (REDIS_URL)"
                if os.environ.get("REDIS_URL")
                else "database",
                "product_rps": entry["rps"],
                "p50_ms": entry["p50_ms"],
                "p99_ms": entry["p99_ms"],
                "errors": entry["errors"],
                "error_sample": entry["error_sample"],
                "saves": len(entry["done"]),
                "lost_updates": lost,
                "wrong_values": wrong,
                "cpu_ms_per_save": entry["cpu_ms"],
                "cores_busy": entry["cores_busy"],
                "baseline": "minimal authenticated audited write, same gunicorn",
                "baseline_rps": floor["rps"],
                "baseline_p50_ms": floor["p50_ms"],
                "baseline_p99_ms": floor["p99_ms"],
                "baseline_errors": floor["errors"],
                "baseline_error_sample": floor["error_sample"],
                "baseline_writes": len(floor["done"]),
                "baseline_lost_updates": base_lost,
                "baseline_wrong_values": base_wrong,
                "cpu_ms_per_baseline_write": floor["cpu_ms"],
                "baseline_cores_busy": floor["cores_busy"],
                "ratio": round(entry["rps"] / floor["rps"], 2) if floor["rps"] else None,
                "p99_ratio": round(entry["p99_ms"] / floor["p99_ms"], 2)
                if floor["p99_ms"]
                else None,
                "bars": bars(entry, floor, lost + base_lost),
                "bare_rps": constant["rps"],
                "bare_p99_ms": constant["p99_ms"],
                "cpu_ms_per_bare_request": constant["cpu_ms"],
                "cores": os.cpu_count(),
            }
            emit(**figure)
            figures.append(figure)
            emit(
                figure=f"API score write ({clients} clients, {seconds:.0f} s, {workers} workers)",
                api_saves_per_s=api["rps"],
                p50_ms=api["p50_ms"],
                p99_ms=api["p99_ms"],
                errors=api["errors"],
                error_sample=api["error_sample"],
                baseline="the page's score save, same server and run",
                page_saves_per_s=entry["rps"],
                ratio=round(api["rps"] / entry["rps"], 2) if entry["rps"] else None,
                saves=len(api["done"]),
                cpu_ms_per_save=api["cpu_ms"],
            )
    return figures
