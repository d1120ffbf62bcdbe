"""Issue 16 item 5 for people: a box that takes a person reads his full name or his account
name (core.lookup.PersonChoiceField); a name two people share is refused with both listed; the
suggestions (/names/?kind=person) and the box offer only the people the authorization layer lets
the reader choose (authz.users_for_user)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicmark.core.models import AuditEvent
from civicmark.divisions.models import WorkingGroupMember
from tests.factories import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client_for, settings):  # noqa: ANN001, ANN201
    """Signed in and reading in English: the messages asserted are the English ones."""

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


@pytest.fixture
def zhang(world):  # noqa: ANN001, ANN201
    """Two people named 张三 in county K1, one 李四 in K1 and one 王五 in county K2."""
    people = {
        "zhang1": person("zhangsan1", "town_officer", world.d["T11"]),
        "zhang2": person("zhangsan2", "community_staff", world.d["C112"]),
        "li": person("lisi", "community_staff", world.d["C111"]),
        "wang": person("wangwu", "community_staff", world.d["C211"]),
    }
    for key, name in (("zhang1", "张三"), ("zhang2", "张三"), ("li", "李四"), ("wang", "王五")):
        people[key].full_name = name
        people[key].save(update_fields=["full_name"])
    return people


def _add(client, world, typed: str):  # noqa: ANN001, ANN202
    return client.post(
        reverse("group_detail", args=[world.groups["K1"].public_id]),
        {"user": typed, "duty": "Typed duty", "department": ""},
    )


def test_a_member_is_added_by_his_full_name_or_his_account_name(world, zhang, client_for):
    client = client_for(world.users["county_officer"])
    response = _add(client, world, "李四")
    assert response.status_code == 302
    member = WorkingGroupMember.objects.get(group=world.groups["K1"], user=zhang["li"])
    assert member.name == "李四" and member.duty == "Typed duty"
    _add(client, world, "zhangsan2")
    assert WorkingGroupMember.objects.filter(user=zhang["zhang2"]).exists()
    _add(client, world, "张三 (zhangsan1)")  # what a suggestion fills in
    assert WorkingGroupMember.objects.filter(user=zhang["zhang1"]).exists()


def test_a_name_two_people_share_is_refused_listing_both_and_nothing_written(
    world, zhang, client_for
):
    client = client_for(world.users["county_officer"])
    members, events = WorkingGroupMember.objects.count(), AuditEvent.objects.count()
    response = _add(client, world, "张三")
    html = response.content.decode()
    assert response.status_code == 200
    assert "names several" in html and "张三 (zhangsan1)" in html and "张三 (zhangsan2)" in html
    assert 'value="张三"' in html and 'value="Typed duty"' in html  # every typed value kept
    assert WorkingGroupMember.objects.count() == members
    assert AuditEvent.objects.count() == events


def test_a_person_out_of_scope_is_not_found_by_name_or_account(world, zhang, client_for):
    client = client_for(world.users["county_officer"])
    members = WorkingGroupMember.objects.count()
    for typed in ("王五", "wangwu", str(zhang["wang"].public_id), "王五 (wangwu)"):
        response = _add(client, world, typed)
        assert response.status_code == 200, typed
        assert "Nothing you can see is named or coded" in response.content.decode(), typed
    assert WorkingGroupMember.objects.count() == members


def test_the_person_suggestions_offer_only_people_in_reach(world, zhang, client_for):
    url = reverse("name_search")
    found = client_for(world.users["county_officer"]).get(url, {"kind": "person", "q": "张"})
    html = found.content.decode()
    assert '<option value="张三 (zhangsan1)">' in html and "zhangsan2" in html
    near = client_for(world.users["county_officer"]).get(url, {"kind": "person", "q": "wang"})
    assert "wangwu" not in near.content.decode() and "王五" not in near.content.decode()
    other = client_for(world.users["other_county_officer"])
    assert "wangwu" in other.get(url, {"kind": "person", "q": "王"}).content.decode()
    assert "zhangsan" not in other.get(url, {"kind": "person", "q": "张"}).content.decode()
    # Community staff administer no one: they are offered nobody else.
    staff = client_for(world.users["community_staff"]).get(url, {"kind": "person", "q": "zhang"})
    assert "zhangsan" not in staff.content.decode()
    assert (
        client_for(world.users["county_officer"])
        .get(url, {"kind": "person", "q": "张\x00"})
        .status_code
        == 200
    )
