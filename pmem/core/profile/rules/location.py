"""Where the user lives: a town said outright, moved to, settled in or bought a home in."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import DWELLING, PLACE, is_when

rules = RuleSet()


@rules.search(
    "location.city/live-in",
    r"\b(?:i|we) (?:now |still |currently |both )?(?:live|am living|'m living|are living"
    rf"|'re living) in\s+(?:{DWELLING} (?:in|near|outside|just outside) )?(?:the )?{PLACE}",
    examples=["I live in Porto."],
    counterexamples=["She lives in Porto."],
)
def _location_city_live_in(m: re.Match[str], r: Reading) -> None:
    r.add("location", "city", m.group(1))


@rules.search(
    "location.city/moved-to",
    rf"\b(?:i|we)(?:'ve| have)? (?:just |recently |finally |also )?(?:moved|relocated)(?: back)? to\s+(?:{DWELLING} (?:in"
    rf"|near|outside|just outside) )?{PLACE}",
    examples=["I moved to a smaller place in Matosinhos"],
    counterexamples=["She moved to a smaller place in Matosinhos"],
)
def _location_city_moved_to(m: re.Match[str], r: Reading) -> None:
    # "I moved to a smaller place in Matosinhos"
    r.add("location", "city", m.group(1))


@rules.search(
    "location.city/settled-in",
    r"(?:^(?:now |finally |all |just )?|\b(?:i|we)(?:'m| am|'ve| have|'re| are)? (?:now |finally |all |currently |still "
    rf"|been )*)(?:settled|based|living|unpacked) in\s+(?:the )?{PLACE}",
    examples=["Finally settled in Leipzig, the flat is lovely."],
    counterexamples=["We will be settled in Leeds by May."],
)
def _location_city_settled_in(m: re.Match[str], r: Reading) -> None:
    if not re.search(r"\b(will|going to|plan|hope|want)\b", r.s, re.I):
        r.add("location", "city", m.group(1))


@rules.search(
    "location.city/back-in",
    rf"\b(?:i|we)(?:'m| am|'re| are) back (?:home )?in {PLACE}",
    examples=["We're back in Leeds."],
    counterexamples=["My parents are back in Leeds."],
)
def _location_city_back_in(m: re.Match[str], r: Reading) -> None:
    r.add("location", "city", m.group(1))


@rules.search(
    "location.city/in-now",
    rf"\b(?:i|we)(?:'m| am|'re| are) (?:now )?(?:in|over in) (?:{DWELLING} (?:in|near|outside|just outside) |the )?{PLACE}(?: now\b)?",
    examples=["We moved house, we're in Modena now."],
    counterexamples=["They moved house, they're in Modena now."],
    unless="location.city/back-in",
)
def _location_city_in_now(m: re.Match[str], r: Reading) -> None:
    if (m.group(0).endswith("now") or re.search(r"\b(moved|move|moving house|settled|relocated)\b", r.s, re.I)) and not is_when(m.group(1)):
        r.add("location", "city", m.group(1))


@rules.search(
    "location.city/new-place-in",
    rf"(?:\b(?:our|my) |^)new (?:place|flat|apartment|house|home) (?:is |here )?in\s+(?:the )?{PLACE}",
    examples=["New flat in Bristol!"],
    counterexamples=["New flat in March!"],
)
def _location_city_new_place_in(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.add("location", "city", m.group(1))


@rules.search(
    "location.city/moved-from-to",
    rf"\b(?:i|we)(?:'ve| have)? (?:just |recently |finally )?(?:moved|relocated)(?: house)? from\s+(?:the )?{PLACE} to\s+(?:the )?{PLACE}",
    examples=["We moved from Osaka to Kyoto last month."],
    counterexamples=["They moved from Osaka to Kyoto last month."],
)
def _location_city_moved_from_to(m: re.Match[str], r: Reading) -> None:
    r.put("location", "city", m.group(1), kind="end")
    r.add("location", "city", m.group(2))


@rules.match(
    "location.city/now-in-label",
    rf"(?:now|currently) (?:living |based )?in {PLACE}(?:,? (?:since|for good|permanently)\b|[.!]?$)",
    examples=["Now in Warsaw, since spring."],
    counterexamples=["Now in Warsaw for a conference today."],
    terse=True,
    flags=0,
)
def _location_city_now_in_label(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.add("location", "city", m.group(1))  # "Now in Warsaw, since spring."


@rules.search(
    "location.city/bought-home-in",
    rf"\b(?:i|we) (?:just |finally |recently )?(?:bought|rented|found) (?:a |our )?(?:new )?(?:house|flat|place|apartment|home) in {PLACE}",
    examples=["We bought a house in Hamilton and moved in"],
    counterexamples=["We bought a flat in Lisbon as an investment."],
)
def _location_city_bought_home_in(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(moved in|moving in|settled|live|living)\b", r.s, re.I) and not is_when(m.group(1)):
        r.add("location", "city", m.group(1))  # "We bought a house in Hamilton and moved in"


@rules.search(
    "location.city/moved-into",
    rf"\b(?:i|we)(?:'ve| have)? (?:just |finally )?moved into (?:halls|student halls|a dorm|the dorms|{DWELLING}) (?:in|near|at) {PLACE}",
    examples=["moved into halls in Plymouth"],
    counterexamples=["My son moved into halls in Plymouth."],
)
def _location_city_moved_into(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.add("location", "city", m.group(1))  # "moved into halls in Plymouth"

RULES = rules.rules
