"""What every use case needs from the outside, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from marktplatz.services.ports import (
    ChartRenderer,
    Clock,
    DecisionCounters,
    EventSink,
    FunnelEngine,
    ImageProcessor,
    MediaStore,
    PasswordHasher,
    PosterPrinter,
    QrRenderer,
    RateLimiter,
    ReportPrinter,
    SecretBox,
    UnitOfWorkFactory,
)

# (target, active): where a code leads, and whether /q/<code> follows it at all.
CodeLink: TypeAlias = tuple[str, bool]


class CodeCache(Protocol):
    """Resolved /q/<code> links held in this process for a few seconds (the QR hot path).

    `put` takes the `version()` read before the lookup and drops the entry if `forget` ran in
    between: a lookup that raced with a change must not put the old target back.
    """

    def get(self, code: str) -> CodeLink | None: ...
    def version(self) -> int: ...
    def put(self, code: str, link: CodeLink, version: int) -> None: ...
    def forget(self, code: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Context:
    """Ports and policy values handed to services; real or fake adapters behind each."""

    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    images: ImageProcessor
    media: MediaStore
    login_limiter: RateLimiter
    guess_limiter: RateLimiter  # unknown coupon codes per cashier account
    save_limiter: RateLimiter  # coupons saved per client
    codes: CodeCache
    events: EventSink
    decisions: DecisionCounters
    qr: QrRenderer
    posters: PosterPrinter
    secrets: SecretBox  # seals TOTP secrets at rest
    base_url: str
    session_hours: int
    two_factor_grace_days: int  # owners and city admins: days until two-factor login is required
    max_upload_bytes: int
    # Keys the one-way stand-in of an erased pseudonym (from the installation's secret key).
    erasure_key: bytes
    retention_days: int  # default for cities without their own setting
    attribution_days: int  # how far back a redemption looks for the contacts that led to it
    charts: ChartRenderer  # SVG and PNG charts of the analytics pages and reports
    reports: ReportPrinter  # the shops' monthly reports as PDF
    funnels: FunnelEngine  # ad-hoc funnels on raw events
