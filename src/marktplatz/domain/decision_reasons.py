"""Why a pick is shown: reason codes, their texts, and how they are stored with an exposure."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from enum import StrEnum

from marktplatz.domain.content import Interest
from marktplatz.domain.errors import N_
from marktplatz.domain.scoring import Placement


class ReasonCode(StrEnum):
    TOUCHPOINT = "touchpoint"
    ZONE = "zone"
    NEARBY = "nearby"
    CITY = "city"
    OPEN_NOW = "open-now"
    OPENS_SOON = "opens-soon"
    INTEREST = "interest"
    SHARED_INTEREST = "shared-interest"  # INTEREST as recorded: without naming the interest
    FRESH = "fresh"
    DRAW = "draw"


# "Why am I seeing this?" — one sentence per recorded reason, translated at the edge.
REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.TOUCHPOINT: N_("It was placed at this very spot."),
    ReasonCode.ZONE: N_("It is meant for the area you are in: %(zone)s."),
    ReasonCode.NEARBY: N_("The shop is %(metres)s m from here."),
    ReasonCode.CITY: N_("It is shown everywhere in the city centre."),
    ReasonCode.OPEN_NOW: N_("The shop is open now."),
    ReasonCode.OPENS_SOON: N_("The shop opens soon."),
    ReasonCode.INTEREST: N_("You said you are interested in %(interest)s."),
    ReasonCode.SHARED_INTEREST: N_("It matches one of the interests you shared."),
    ReasonCode.FRESH: N_("It is new."),
    ReasonCode.DRAW: N_(
        "It was drawn at random among everything that fits, to be fair to all shops."
    ),
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    params: tuple[tuple[str, str], ...] = ()


@functools.lru_cache(maxsize=4096)
def reasons_json(reasons: tuple[Reason, ...]) -> str:
    """The reasons of a pick as stored with its exposure: [["nearby", {"metres": "150"}], …].

    Which interest matched is not stored: it belongs to the personalisation the visitor may
    withdraw, while the exposure may be kept for analytics. The device knows its interests.
    The same few combinations recur all the time: each is encoded once.
    """
    return json.dumps(
        [[r.code.value, {} if r.code is ReasonCode.INTEREST else dict(r.params)] for r in reasons],
        ensure_ascii=False,
    )


def reasons_from_json(text: str) -> tuple[Reason, ...]:
    """Reasons stored by reasons_json; unknown codes (from a newer version) are skipped."""
    found: list[Reason] = []
    for code, params in json.loads(text):
        if code == ReasonCode.INTEREST and not params:
            found.append(Reason(ReasonCode.SHARED_INTEREST))
        elif code in ReasonCode._value2member_map_:
            found.append(Reason(ReasonCode(code), tuple(sorted(params.items()))))
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def reasons_for(
    placement: Placement,
    detail: str,
    state: str | None,
    shared: tuple[Interest, ...],
    fresh: bool,
    drawn: bool,
) -> tuple[Reason, ...]:
    """A pick's reasons; few combinations recur, so each is built once."""
    reasons = [Reason(ReasonCode.DRAW)] if drawn else []
    if placement is Placement.TOUCHPOINT:
        reasons.append(Reason(ReasonCode.TOUCHPOINT))
    elif placement is Placement.ZONE:
        reasons.append(Reason(ReasonCode.ZONE, (("zone", detail),)))
    elif placement is Placement.NEARBY:
        reasons.append(Reason(ReasonCode.NEARBY, (("metres", detail),)))
    else:
        reasons.append(Reason(ReasonCode.CITY))
    if state in _OPEN:
        reasons.append(Reason(_OPEN[state]))
    reasons += [Reason(ReasonCode.INTEREST, (("interest", i.value),)) for i in shared]
    if fresh:
        reasons.append(Reason(ReasonCode.FRESH))
    return tuple(reasons)


_OPEN = {"open": ReasonCode.OPEN_NOW, "soon": ReasonCode.OPENS_SOON}
