"""Composition root: wires settings to real adapters (or given twins) and builds the context."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from marktplatz.adapters.charts import VlConvertCharts
from marktplatz.adapters.clock import SystemClock
from marktplatz.adapters.codecache import InMemoryCodeCache
from marktplatz.adapters.decision_counters import decision_counters
from marktplatz.adapters.images import PillowImages
from marktplatz.adapters.media import LocalMedia
from marktplatz.adapters.passwords import Argon2Passwords
from marktplatz.adapters.pdf import ReportlabPosters
from marktplatz.adapters.qr import SegnoQr
from marktplatz.adapters.ratelimit import LimitsRateLimiter
from marktplatz.adapters.report_pdf import ReportlabReports
from marktplatz.adapters.secretbox import AesGcmSecretBox
from marktplatz.services import decisions
from marktplatz.services.context import Context
from marktplatz.services.ports import Clock
from marktplatz.settings import Environment, Settings
from marktplatz.store import migrate
from marktplatz.store.database import create_engine
from marktplatz.store.event_writer import GroupCommitWriter
from marktplatz.store.funnel_engine import DuckFunnels
from marktplatz.store.uow import SqlUnitOfWorkFactory, database_ok

__all__ = ["App", "build", "migrate_database"]


@dataclass
class App:
    """Everything a running Marktplatz holds: settings, the engine and the service context."""

    settings: Settings
    engine: AsyncEngine
    ctx: Context
    media: LocalMedia
    writer: GroupCommitWriter

    async def close(self) -> None:
        await decisions.drain()  # exposures still waiting go to the writer before it stops
        await self.writer.close()
        await self.ctx.decisions.aclose()
        await self.engine.dispose()

    async def database_ok(self) -> bool:
        return await database_ok(self.engine)


def build(settings: Settings, *, clock: Clock | None = None) -> App:
    """Build the application's context from settings; `clock` lets tests move time."""
    engine = create_engine(settings.effective_database_url, durability=settings.durability.value)
    media = LocalMedia(Path(settings.media_dir))
    writer = GroupCommitWriter(engine, max_queued=settings.ingest_max_queued)
    writer.ack_before_commit = settings.unsafe_ack_before_commit
    # With Redis, every worker counts logins, guesses and saves in one place; else per process.
    limits_storage = settings.redis_url or "memory://"
    ctx = Context(
        uow=SqlUnitOfWorkFactory(engine),
        clock=clock or SystemClock(),
        hasher=Argon2Passwords(fast=settings.environment is Environment.TEST),
        images=PillowImages(settings.max_image_pixels),
        media=media,
        login_limiter=LimitsRateLimiter(settings.login_rate_limit, limits_storage),
        guess_limiter=LimitsRateLimiter(settings.coupon_guess_rate_limit, limits_storage),
        save_limiter=LimitsRateLimiter(settings.coupon_save_rate_limit, limits_storage),
        codes=InMemoryCodeCache(),
        events=writer,
        decisions=decision_counters(settings.redis_url),
        qr=SegnoQr(),
        posters=ReportlabPosters(),
        secrets=AesGcmSecretBox(
            settings.secret_key.get_secret_value().encode(), b"marktplatz two-factor secret"
        ),
        base_url=settings.base_url,
        session_hours=settings.session_max_age_hours,
        two_factor_grace_days=settings.two_factor_grace_days,
        max_upload_bytes=settings.max_upload_bytes,
        erasure_key=settings.secret_key.get_secret_value().encode(),
        retention_days=settings.retention_days,
        attribution_days=settings.attribution_days,
        charts=VlConvertCharts(),
        reports=ReportlabReports(),
        funnels=DuckFunnels(engine, settings.extract_dir),
    )
    return App(settings=settings, engine=engine, ctx=ctx, media=media, writer=writer)


def migrate_database(settings: Settings) -> None:
    """Create or upgrade the schema; runs Alembic in a worker thread if a loop is running."""
    url = settings.effective_database_url
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        migrate.upgrade(url)
        return
    raise RuntimeError("call migrate_database outside the event loop")
