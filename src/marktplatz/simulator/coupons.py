"""Simulated visitors ask what to see at a touchpoint and save coupons; a cashier redeems some."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

SAVE_SHARE = 0.4  # of the asks whose answer holds an offer the visitor has not saved yet
REDEEM_SHARE = 0.6  # of the saved coupons, brought to the till
MAX_ATTEMPTS = 4
THROTTLED = (
    "the server's limit of coupons saved per client was reached; for a demo, raise "
    "MARKTPLATZ_COUPON_SAVE_RATE_LIMIT on the server"
)


class LoginFailed(Exception):
    """The server refused a login; the argument is the HTTP status."""


@dataclass(frozen=True, slots=True)
class Ask:
    """A planned POST /decide at a touchpoint, and what the visitor will do with a coupon in it."""

    touchpoint: str
    save: bool
    redeem: bool
    choice: float  # which of the offers, drawn in the seeded plan


@dataclass(frozen=True, slots=True)
class Session:
    """A staff login kept out of the visitors' cookie jar; `shops` are the user's shop ids."""

    headers: dict[str, str]
    shops: frozenset[str]


@dataclass(frozen=True, slots=True)
class SavedCoupon:
    code: str
    shop_id: str | None
    redeem: bool


@dataclass
class CouponTally:
    asked: int = 0
    saved: int = 0
    not_saved: int = 0
    throttled: int = 0
    redeemed: int = 0
    kept: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        refused = ", ".join(f"{why} {n}" for why, n in sorted(self.refused.items())) or "none"
        return [
            f"decisions asked: {self.asked}  coupons saved: {self.saved}  "
            f"not saved: {self.not_saved}  throttled: {self.throttled}",
            f"coupons redeemed: {self.redeemed}  kept: {self.kept}  refused: {refused}",
        ]

    @property
    def notes(self) -> list[str]:
        return [THROTTLED] if self.throttled else []


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> Session:
    """Log in over the API; the session travels only in the headers of the returned Session."""
    login = await client.post("/api/v1/session", json={"email": email, "password": password})
    if login.status_code != 200:
        raise LoginFailed(login.status_code)
    # Sent by hand: a Secure cookie would not travel over plain http in the cookie jar, and
    # the visitor requests must not carry a staff session at all.
    cookie = "; ".join(f"{c.name}={c.value}" for c in login.cookies.jar)
    client.cookies.clear()
    body = login.json()
    memberships = body["user"]["memberships"]
    shops = frozenset(str(m["shop_id"]) for m in memberships if m.get("shop_id"))
    return Session({"cookie": cookie, "x-csrf-token": body["csrf_token"]}, shops)


async def log_out(client: httpx.AsyncClient, session: Session) -> None:
    await client.delete("/api/v1/session", headers=session.headers)


def retry_after(response: httpx.Response, attempt: int) -> float:
    value = response.headers.get("retry-after", "")
    return min(float(value), 30.0) if value.isdigit() else min(0.25 * 2**attempt, 10)


async def save_and_redeem(
    client: httpx.AsyncClient,
    city: str,
    visitors: list[tuple[list[Ask], str | None]],
    cashier: Session | None,
    concurrency: int,
    tally: CouponTally,
) -> None:
    """Every visitor's asks and saves, then the till; sent after the journey events, so both
    happen "now" on the server. `visitors` pairs the asks with the pseudonym (consent only)."""
    run = CouponRun(client, city, tally)
    await run.visit_all(visitors, concurrency)
    await run.redeem_all(cashier)


class CouponRun:
    """Asks and saves of all visitors, then the till; the server's answers decide what is there."""

    def __init__(self, client: httpx.AsyncClient, city: str, tally: CouponTally) -> None:
        self.client, self.city, self.tally = client, city, tally
        self.saved: list[SavedCoupon] = []
        # Offers the server would not save from (no coupon, ended, sold out) are not tried again.
        self.unsavable: set[str] = set()

    async def visit_all(
        self, visitors: list[tuple[list[Ask], str | None]], concurrency: int
    ) -> None:
        limit = asyncio.Semaphore(concurrency)

        async def one(asks: list[Ask], pseudonym: str | None) -> None:
            async with limit:
                await self.visit(asks, pseudonym)

        await asyncio.gather(*(one(asks, pseudonym) for asks, pseudonym in visitors if asks))

    async def visit(self, asks: list[Ask], pseudonym: str | None) -> None:
        """One visitor's asks in order; the wallet keeps the device from saving an offer twice."""
        wallet: set[str] = set()
        for ask in asks:
            answer = await self.decide(ask, pseudonym)
            if answer is None or not ask.save:
                continue
            offers = [
                p for p in answer["picks"]
                if p["kind"] == "offer" and p["content_id"] not in wallet | self.unsavable
            ]  # fmt: skip
            if offers:
                pick = offers[int(ask.choice * len(offers))]
                wallet.add(pick["content_id"])
                await self.save(ask, pick, answer["decision_id"], pseudonym)

    async def decide(self, ask: Ask, pseudonym: str | None) -> dict[str, Any] | None:
        body = {"city": self.city, "mode": "pull", "touchpoint_id": ask.touchpoint}
        # The pseudonym goes out only for a visitor whose consent the server recorded.
        response = await self.post("/decide", body | ({"visitor": pseudonym} if pseudonym else {}))
        self.tally.asked += 1
        if response is None or response.status_code != 200:
            self.problem("POST /decide", response)
            return None
        answer: dict[str, Any] = response.json()
        return answer

    async def save(
        self, ask: Ask, pick: dict[str, Any], decision_id: str, pseudonym: str | None
    ) -> None:
        """Save as the phone would; the server records content.saved itself, so no event is sent."""
        body = {"content_id": pick["content_id"], "touchpoint_id": ask.touchpoint}
        body |= {"decision_id": decision_id} | ({"visitor": pseudonym} if pseudonym else {})
        response = await self.post("/api/v1/coupons", body)
        if response is not None and response.status_code == 201:
            self.tally.saved += 1
            self.saved.append(SavedCoupon(response.json()["code"], pick["shop_id"], ask.redeem))
        elif response is not None and response.status_code == 422:
            self.tally.not_saved += 1
            self.unsavable.add(pick["content_id"])
        elif response is not None and response.status_code == 429:
            # Waiting out the server's limit per client would stretch a big run over hours.
            self.tally.throttled += 1
        else:
            self.problem("POST /api/v1/coupons", response)

    async def redeem_all(self, session: Session | None) -> None:
        """The cashier brings a share of the coupons of the own shop to the till, one by one."""
        for coupon in self.saved:
            if session is None or not coupon.redeem or coupon.shop_id not in session.shops:
                self.tally.kept += 1
                continue
            path = "/api/v1/coupons/redeem"
            response = await self.post(path, {"code": coupon.code}, session.headers)
            if response is not None and response.status_code == 200:
                self.tally.redeemed += 1
            elif response is not None and response.status_code == 409:
                self.tally.refused[str(response.json().get("refusal"))] += 1
            else:
                self.problem(f"POST {path}", response)

    async def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> httpx.Response | None:
        """POST, again only when the server was busy (503): saves and redemptions are not
        idempotent, so a lost answer is not retried."""
        response = None
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = await self.client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                return None
            if response.status_code != 503:
                return response
            await asyncio.sleep(retry_after(response, attempt))
        return response

    def problem(self, what: str, response: httpx.Response | None) -> None:
        answer = (
            "no answer" if response is None else f"{response.status_code}: {response.text[:200]}"
        )
        self.tally.problems.append(f"{what} answered {answer}")
