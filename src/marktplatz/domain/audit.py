"""Entries of the append-only audit log, and how the console filters and names them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.text import clean_text

ACCESS_DENIED = "access.denied"
# A refused request is written at most once per user and path in this window: someone
# reloading a page they may not open leaves one line, not hundreds.
DENIED_QUIET = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log."""

    at: datetime
    actor_id: UUID | None
    city_id: UUID | None
    action: str
    object_type: str
    object_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class AuditRow:
    """A stored line with its number and the actor's account, as the console shows it."""

    id: int
    entry: AuditEntry
    actor_email: str | None
    actor_name: str | None


class AuditGroup(StrEnum):
    LOGINS = "logins"
    DENIED = "denied"
    ROLES = "roles"
    APPROVALS = "approvals"
    UNDONE = "undone"
    DATA_RIGHTS = "data-rights"


# Each group is a list of action prefixes (an exact action is its own prefix).
GROUP_ACTIONS: dict[AuditGroup, tuple[str, ...]] = {
    AuditGroup.LOGINS: ("login.",),
    AuditGroup.DENIED: (ACCESS_DENIED,),
    AuditGroup.ROLES: (
        "user.created",
        "user.role_",
        "user.disabled",
        "user.enabled",
        "staff.",
        "invitation.",
    ),
    AuditGroup.APPROVALS: (
        "content.approve",
        "content.reject",
        "shop.story_approve",
        "shop.story_reject",
    ),
    AuditGroup.UNDONE: ("coupon.redemption_undone",),
    AuditGroup.DATA_RIGHTS: ("visitor.", "consent."),
}

GROUP_LABELS: dict[AuditGroup, str] = {
    AuditGroup.LOGINS: N_("Logins"),
    AuditGroup.DENIED: N_("Refused requests"),
    AuditGroup.ROLES: N_("Roles and accounts"),
    AuditGroup.APPROVALS: N_("Approvals"),
    AuditGroup.UNDONE: N_("Redemptions undone"),
    AuditGroup.DATA_RIGHTS: N_("Data-rights requests"),
}

# Plain words for the actions the application writes; an action missing here is shown as is.
ACTION_LABELS: dict[str, str] = {
    "access.denied": N_("Request refused"),
    "audit.exported": N_("Audit log exported"),
    "city.retention": N_("Retention period changed"),
    "city.updated": N_("City details changed"),
    "consent.changed": N_("Visitor consent changed"),
    "content.approve": N_("Content approved"),
    "content.created": N_("Content created"),
    "content.expire": N_("Content expired"),
    "content.reject": N_("Content rejected"),
    "content.submit": N_("Content submitted"),
    "content.updated": N_("Content changed"),
    "content.withdraw": N_("Content withdrawn"),
    "coupon.redeemed": N_("Coupon redeemed"),
    "coupon.redemption_undone": N_("Redemption undone"),
    "coupon.unknown_code": N_("Unknown coupon code entered"),
    "fitness.checked": N_("Digital fitness checked"),
    "footfall.imported": N_("People counts imported"),
    "invitation.accepted": N_("Invitation accepted"),
    "invitation.created": N_("Invitation sent"),
    "invitation.withdrawn": N_("Invitation withdrawn"),
    "login.failed": N_("Login failed"),
    "login.refused_disabled": N_("Login refused: account disabled"),
    "login.password_accepted": N_("Password accepted, code pending"),
    "login.second_factor_failed": N_("Wrong login code"),
    "login.succeeded": N_("Logged in"),
    "rules.updated": N_("Content rules changed"),
    "shop.created": N_("Shop created"),
    "shop.hours_updated": N_("Opening hours changed"),
    "shop.image_added": N_("Shop picture added"),
    "shop.image_deleted": N_("Shop picture deleted"),
    "shop.story_approve": N_("Shop story approved"),
    "shop.story_reject": N_("Shop story sent back"),
    "shop.story_restored": N_("Shop story restored"),
    "shop.story_submitted": N_("Shop story submitted for approval"),
    "shop.story_updated": N_("Shop story changed"),
    "shop.updated": N_("Shop details changed"),
    "staff.removed": N_("Shop staff removed"),
    "staff.rights_changed": N_("Staff rights changed"),
    "touchpoint.created": N_("Touchpoint created"),
    "touchpoint.updated": N_("Touchpoint changed"),
    "two_factor.disable_failed": N_("Two-factor login: switching off refused"),
    "two_factor.disabled": N_("Two-factor login switched off"),
    "two_factor.enabled": N_("Two-factor login switched on"),
    "two_factor.recovery_codes_renewed": N_("Recovery codes renewed"),
    "two_factor.setup_started": N_("Two-factor setup started"),
    "user.created": N_("Account created"),
    "user.disabled": N_("Account disabled"),
    "user.enabled": N_("Account enabled"),
    "user.role_changed": N_("Role changed"),
    "user.role_removed": N_("Role removed"),
    "user.password_changed": N_("Password changed"),
    "visitor.erased": N_("Visitor data erased"),
    "visitor.exported": N_("Visitor data exported"),
    "zone.created": N_("Zone created"),
    "zone.deleted": N_("Zone deleted"),
    "zone.updated": N_("Zone changed"),
}

OBJECT_LABELS: dict[str, str] = {
    "city": N_("City"),
    "coupon": N_("Coupon"),
    "event": N_("Event"),
    "offer": N_("Offer"),
    "path": N_("Page"),
    "shop": N_("Shop"),
    "story": N_("Story"),
    "touchpoint": N_("Touchpoint"),
    "user": N_("Account"),
    "visitor": N_("Visitor"),
    "zone": N_("Zone"),
}


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What the console narrows the log to; empty fields do not narrow it."""

    group: AuditGroup | None = None
    action: str = ""
    actor: str = ""
    object: str = ""
    since: date | None = None
    until: date | None = None

    def prefixes(self) -> tuple[str, ...]:
        """Action prefixes to match (none: every action)."""
        if self.action:
            return (self.action,)
        return GROUP_ACTIONS[self.group] if self.group else ()

    def window(self, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """[start, end): whole days from `since` through `until` in the city's time zone."""
        start = datetime.combine(self.since, time(), tz) if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), tz) if self.until else None
        return start, end

    def query(self) -> dict[str, str]:
        """The filter as the GET form's parameters (for links to the next page and the export)."""
        values = {
            "group": self.group.value if self.group else "",
            "action": self.action,
            "actor": self.actor,
            "object": self.object,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v}


def _day(raw: Mapping[str, str], field: str) -> date | None:
    value = raw.get(field, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, N_("Please give a date like 2026-03-31.")) from None


def clean_filter(raw: Mapping[str, str]) -> AuditFilter:
    """The filter from the form's fields, or InvalidInput naming the field that is wrong."""
    group = raw.get("group", "").strip()
    if group and group not in set(AuditGroup):
        raise InvalidInput("group", N_("Please choose one of the listed kinds of entry."))
    since, until = _day(raw, "since"), _day(raw, "until")
    if since and until and since > until:
        raise InvalidInput("until", N_("The end date must not be before the start date."))
    return AuditFilter(
        group=AuditGroup(group) if group else None,
        action=clean_text(raw.get("action"), "action", max_len=60, required=False),
        actor=clean_text(raw.get("actor"), "actor", max_len=254, required=False).lower(),
        object=clean_text(raw.get("object"), "object", max_len=254, required=False),
        since=since,
        until=until,
    )


def denied_path(path: str) -> str:
    """The path of a refused request as it is logged: no query string, bounded length."""
    return path.split("?", 1)[0][:254]
