"""The rules a city sets for content and notifications, kept as data (never code per category)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import time
from enum import StrEnum
from typing import Any

from marktplatz.domain.categories import CATEGORIES, ShopCategory
from marktplatz.domain.content import (
    SPECIAL_INTERESTS,
    Content,
    ContentKind,
    Interest,
    clean_interests,
)
from marktplatz.domain.errors import N_, InvalidInput

MAX_TERMS = 50
MAX_BUDGET = 20


class Strategy(StrEnum):
    SCORE = "score"  # rank by relevance, distance, freshness and fairness
    RANDOM = "random"  # a fair draw among everything eligible


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """What applies to the content of every shop in one category."""

    category: ShopCategory
    requires_approval: bool = False
    # HWG and the fixed prices of prescription medicines (AMPreisV): no offer may discount them.
    no_prescription_offers: bool = False
    # Words that send an item to the city's approval queue when they appear in its text.
    flagged_terms: tuple[str, ...] = ()
    forbidden_interests: frozenset[Interest] = frozenset()


PHARMACY_TERMS = (
    "rezeptpflichtig",
    "verschreibungspflichtig",
    "rx",
    "arzneimittel",
    "heilt",
    "heilung",
    "wirkt gegen",
)

DEFAULT_CATEGORY_RULES = (
    CategoryRule(
        ShopCategory.PHARMACY,
        requires_approval=True,
        no_prescription_offers=True,
        flagged_terms=PHARMACY_TERMS,
    ),
)


@dataclass(frozen=True, slots=True)
class CityRules:
    """Notification budget, quiet hours, strategy and the category rules of one city."""

    push_budget_per_day: int = 3  # pushed items per visitor and day, across all retailers
    quiet_start: time | None = time(20, 0)  # local; nothing is pushed from here ...
    quiet_end: time | None = time(8, 0)  # ... to here (the span may cross midnight)
    approve_everything: bool = False
    strategy: Strategy = Strategy.SCORE
    control_share: float = 0.1  # share of contacts that sees no offer (to measure uplift)
    max_picks: int = 3
    repeats_per_day: int = 2  # how often one visitor is pushed the same item in a day
    opening_soon_minutes: int = 30  # offers of a shop opening within this time still show
    open_required: frozenset[ContentKind] = frozenset({ContentKind.OFFER})
    category_rules: tuple[CategoryRule, ...] = field(default=DEFAULT_CATEGORY_RULES)

    def rule_for(self, category: ShopCategory | None) -> CategoryRule | None:
        return next((r for r in self.category_rules if r.category == category), None)

    def in_quiet_hours(self, local: time) -> bool:
        if self.quiet_start is None or self.quiet_end is None:
            return False
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end


def approval_flags(
    rules: CityRules, category: ShopCategory | None, content: Content
) -> tuple[str, ...]:
    """Why this item needs the city's approval (empty: it may be published at once)."""
    return text_approval_flags(rules, category, f"{content.title} {content.body_html}")


def text_approval_flags(
    rules: CityRules, category: ShopCategory | None, text: str
) -> tuple[str, ...]:
    """Why a text of a shop of `category` (an item, the shop's story) needs the city's approval."""
    flags: list[str] = []
    if rules.approve_everything:
        flags.append("city:approve-everything")
    rule = rules.rule_for(category)
    if rule is not None and rule.requires_approval:
        flags.append(f"category:{rule.category.value}")
    if rule is not None and rule.flagged_terms:
        folded = text.casefold()
        flags += [f"term:{term}" for term in rule.flagged_terms if _mentions(folded, term)]
    return tuple(flags)


def _mentions(text: str, term: str) -> bool:
    """Whether a word of `text` starts with `term` (German inflects: "verschreibungspflichtige")."""
    words = "".join(c if c.isalnum() else " " for c in text).split()
    needle = term.casefold()
    if " " in needle:
        return needle in " ".join(words)
    return any(word.startswith(needle) for word in words)


def check_content_rules(rules: CityRules, category: ShopCategory | None, content: Content) -> None:
    """Refuse what no approval can make right: forbidden targeting and prescription offers."""
    special = content.targeting.interests & SPECIAL_INTERESTS
    if special:
        raise InvalidInput(
            "interests",
            N_(
                "Nothing may be targeted by %(value)s: it is a special category of "
                "personal data (Art. 9 GDPR)."
            ),
            value=sorted(special)[0].value,
        )
    rule = rules.rule_for(category)
    if rule is None:
        return
    forbidden = content.targeting.interests & rule.forbidden_interests
    if forbidden:
        raise InvalidInput(
            "interests",
            N_("This city does not allow %(category)s content to target %(value)s."),
            category=rule.category.value,
            value=sorted(forbidden)[0].value,
        )
    if (
        rule.no_prescription_offers
        and content.kind is ContentKind.OFFER
        and content.prescription_only
    ):
        raise InvalidInput(
            "prescription_only",
            N_(
                "Prescription medicines have fixed prices in Germany: a pharmacy may not "
                "offer them at a discount (HWG, AMPreisV)."
            ),
        )


def rules_to_dict(rules: CityRules) -> dict[str, Any]:
    """The rules as JSON-ready data (stored per city, edited in the console)."""
    return {
        "push_budget_per_day": rules.push_budget_per_day,
        "quiet_start": rules.quiet_start.isoformat("minutes") if rules.quiet_start else None,
        "quiet_end": rules.quiet_end.isoformat("minutes") if rules.quiet_end else None,
        "approve_everything": rules.approve_everything,
        "strategy": rules.strategy.value,
        "control_share": rules.control_share,
        "max_picks": rules.max_picks,
        "repeats_per_day": rules.repeats_per_day,
        "opening_soon_minutes": rules.opening_soon_minutes,
        "open_required": sorted(k.value for k in rules.open_required),
        "category_rules": [
            {
                "category": r.category.value,
                "requires_approval": r.requires_approval,
                "no_prescription_offers": r.no_prescription_offers,
                "flagged_terms": list(r.flagged_terms),
                "forbidden_interests": sorted(i.value for i in r.forbidden_interests),
            }
            for r in rules.category_rules
        ],
    }


def rules_from_dict(data: object) -> CityRules:
    """Checked rules from JSON data; every field is optional and falls back to the default."""
    if data is None:
        return CityRules()
    if not isinstance(data, dict):
        raise InvalidInput("rules", N_("The rules must be an object."))
    base = CityRules()
    quiet_start = _time(data, "quiet_start", base.quiet_start)
    quiet_end = _time(data, "quiet_end", base.quiet_end)
    if (quiet_start is None) != (quiet_end is None):
        raise InvalidInput("quiet_end", N_("Give both ends of the quiet hours, or neither."))
    return replace(
        base,
        push_budget_per_day=_int(
            data, "push_budget_per_day", base.push_budget_per_day, 0, MAX_BUDGET
        ),
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        approve_everything=_bool(data, "approve_everything", base.approve_everything),
        strategy=_strategy(data.get("strategy", base.strategy.value)),
        control_share=_share(data.get("control_share", base.control_share)),
        max_picks=_int(data, "max_picks", base.max_picks, 1, 10),
        repeats_per_day=_int(data, "repeats_per_day", base.repeats_per_day, 1, 20),
        opening_soon_minutes=_int(data, "opening_soon_minutes", base.opening_soon_minutes, 0, 240),
        open_required=_kinds(data.get("open_required", sorted(base.open_required))),
        category_rules=_category_rules(data.get("category_rules", None), base.category_rules),
    )


def _int(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            name, N_("Enter a whole number from %(low)s to %(high)s."), low=low, high=high
        )
    return value


def _bool(data: dict[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput(name, N_("Choose yes or no."))
    return value


def _time(data: dict[str, Any], name: str, default: time | None) -> time | None:
    value = data.get(name, default.isoformat("minutes") if default else None)
    if value in (None, ""):
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(name, N_("Enter a time like 20:00.")) from exc


def _strategy(value: object) -> Strategy:
    try:
        return Strategy(str(value))
    except ValueError as exc:
        raise InvalidInput("strategy", N_("The strategy is score or random.")) from exc


def _share(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 0.5:
        raise InvalidInput(
            "control_share", N_("The control group is at most half of all contacts (0 to 50 %).")
        )
    return float(value)


def _kinds(values: object) -> frozenset[ContentKind]:
    if not isinstance(values, list):
        raise InvalidInput("open_required", N_("Choose content types from the list."))
    try:
        return frozenset(ContentKind(str(v)) for v in values)
    except ValueError as exc:
        raise InvalidInput("open_required", N_("Choose content types from the list.")) from exc


def _category_rules(values: object, default: tuple[CategoryRule, ...]) -> tuple[CategoryRule, ...]:
    if values is None:
        return default
    if not isinstance(values, list) or len(values) > len(CATEGORIES):
        raise InvalidInput("category_rules", N_("The category rules must be a list."))
    rules = tuple(_category_rule(v) for v in values)
    if len({r.category for r in rules}) != len(rules):
        raise InvalidInput("category_rules", N_("Each category may have only one rule."))
    return rules


def _category_rule(value: object) -> CategoryRule:
    if not isinstance(value, dict):
        raise InvalidInput("category_rules", N_("Each category rule must be an object."))
    try:
        category = ShopCategory(str(value.get("category")))
    except ValueError as exc:
        raise InvalidInput(
            "category_rules.category",
            N_("Unknown category: %(value)s"),
            value=str(value.get("category"))[:40],
        ) from exc
    terms = value.get("flagged_terms", [])
    if not isinstance(terms, list) or len(terms) > MAX_TERMS:
        raise InvalidInput(
            "category_rules.flagged_terms", N_("At most %(max)s words, please."), max=MAX_TERMS
        )
    clean_terms = tuple(str(t).strip().casefold()[:60] for t in terms if str(t).strip())
    forbidden = value.get("forbidden_interests", [])
    # Special categories are forbidden for everyone anyway; listing them here is harmless.
    allowed = (
        [i for i in forbidden if i not in {s.value for s in SPECIAL_INTERESTS}]
        if isinstance(forbidden, list)
        else forbidden
    )
    return CategoryRule(
        category=category,
        requires_approval=_bool(value, "requires_approval", False),
        no_prescription_offers=_bool(value, "no_prescription_offers", False),
        flagged_terms=clean_terms,
        forbidden_interests=clean_interests(allowed, "category_rules.forbidden_interests"),
    )
