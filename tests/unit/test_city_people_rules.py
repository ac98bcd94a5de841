"""Unit tests for the rules of changing people's roles: a shop keeps an active owner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from marktplatz.domain.accounts import Membership, Role, User
from marktplatz.domain.city_people import check_keeps_an_owner
from marktplatz.domain.errors import Conflict

CITY, SHOP, OTHER_SHOP = uuid4(), uuid4(), uuid4()
NAMES = {SHOP: "Optik A", OTHER_SHOP: "Mode B"}


def person(name: str, *roles: tuple[Role, UUID]) -> User:
    memberships = tuple(Membership(role, CITY, shop) for role, shop in roles)
    created = datetime(2026, 5, 1, tzinfo=UTC)
    return User(uuid4(), f"{name}@example.org", name, "hash", True, memberships, created)


def demoted(user: User, shop: UUID = SHOP) -> User:
    kept = tuple(m for m in user.memberships if m.shop_id != shop)
    return replace(user, memberships=(*kept, Membership(Role.RETAILER_STAFF, CITY, shop)))


def without(user: User, shop: UUID = SHOP) -> User:
    return replace(user, memberships=tuple(m for m in user.memberships if m.shop_id != shop))


def disabled(user: User) -> User:
    return replace(user, is_active=False)


CHANGES = pytest.mark.parametrize(
    "change", [demoted, without, disabled], ids=["demote", "remove", "disable"]
)


def refusal(before: User, after: User, people: list[User]) -> Conflict:
    with pytest.raises(Conflict) as refused:
        check_keeps_an_owner(before, after, people, NAMES)
    return refused.value


@CHANGES
def test_the_last_active_owner_of_a_shop_is_not_taken_away(
    change: Callable[[User], User],
) -> None:
    # given
    owner = person("Ana", (Role.RETAILER_OWNER, SHOP))
    cashier = person("Bo", (Role.RETAILER_STAFF, SHOP))
    # when
    refused = refusal(owner, change(owner), [owner, cashier])
    # then
    assert refused.field == "person"
    assert dict(refused.params) == {"name": "Ana", "shop": "Optik A"}
    assert refused.message.startswith("%(name)s is the last active owner of %(shop)s;")


@CHANGES
def test_an_owner_goes_while_another_active_owner_stays(change: Callable[[User], User]) -> None:
    # given
    owner = person("Ana", (Role.RETAILER_OWNER, SHOP))
    second = person("Bo", (Role.RETAILER_OWNER, SHOP))
    # when / then: no refusal
    check_keeps_an_owner(owner, change(owner), [owner, second], NAMES)


def test_a_disabled_second_owner_does_not_count() -> None:
    # given
    owner = person("Ana", (Role.RETAILER_OWNER, SHOP))
    away = disabled(person("Bo", (Role.RETAILER_OWNER, SHOP)))
    # when
    refused = refusal(owner, without(owner), [owner, away])
    # then
    assert refused.params["shop"] == "Optik A"


def test_disabling_names_the_shop_that_would_lose_its_owner() -> None:
    # given: Ana owns two shops; Mode B has another owner, Optik A has not
    owner = person("Ana", (Role.RETAILER_OWNER, OTHER_SHOP), (Role.RETAILER_OWNER, SHOP))
    other = person("Cem", (Role.RETAILER_OWNER, OTHER_SHOP))
    # when
    refused = refusal(owner, disabled(owner), [owner, other])
    # then
    assert refused.params["shop"] == "Optik A"


def test_changes_that_take_no_active_owner_away_pass() -> None:
    # given
    owner = person("Ana", (Role.RETAILER_OWNER, SHOP), (Role.RETAILER_STAFF, OTHER_SHOP))
    cashier = person("Bo", (Role.RETAILER_STAFF, SHOP))
    away = disabled(person("Cem", (Role.RETAILER_OWNER, SHOP)))
    people = [owner, cashier, away]
    # when / then: a cashier goes, an owner loses another shop's role, a disabled owner goes
    check_keeps_an_owner(cashier, without(cashier), people, NAMES)
    check_keeps_an_owner(owner, without(owner, OTHER_SHOP), people, NAMES)
    check_keeps_an_owner(away, without(away), people, NAMES)
