"""Who the user is: their name (introduced, signed or asked to be called), nickname, age, hometown and languages."""

from __future__ import annotations

import re

from pmem.core.profile.casing import is_common
from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import (
    HELLO,
    JOB_WORDS,
    NAME,
    NOT_A_NAME,
    NOT_INTRODUCED,
    NOT_NAMES,
    PLACE,
    RELATIONS,
    is_job,
    is_when,
    may_be_name,
)

rules = RuleSet()
#: The two ways of giving one's name outright; the introductions below leave such a sentence to them.
NAME_IS, CALL_ME = "identity.name/my-name-is", "identity.name/call-me"


@rules.search(
    NAME_IS,
    rf"(?:\bmy name is|\bmy name'?s|^name(?: is|'s)|\bi'?m called|\bi am called)\s+{NAME}",
    examples=["My name is Ada."], counterexamples=["Her name is Ada."],
)
def _name_is(m: re.Match[str], r: Reading) -> None:
    if m.group(1)[0].isupper():
        r.add("identity", "name", m.group(1))


@rules.search(CALL_ME, rf"\bcall me\s+{NAME}", examples=["Call me Ishmael."], counterexamples=["Call me Monday, I'm busy today."])
def _call_me(m: re.Match[str], r: Reading) -> None:
    if m.group(1)[0].isupper() and may_be_name(m.group(1)) and not is_when(m.group(1).split()[0]):
        # "Name is Oleksandr, call me Sasha": the name and what to call them
        r.add("identity", "nickname" if NAME_IS in r.matched else "name", m.group(1))


def said_outright(r: Reading) -> bool:
    """Whether the sentence gave the name outright ("my name is …", "call me …"): the introductions need not."""
    return not {NAME_IS, CALL_ME}.isdisjoint(r.matched)


@rules.fullmatch(
    "identity.name/im-alone",
    rf"(?:i'm|i am) {NAME}[.!]?",
    examples=["I'm Kenji."],
    counterexamples=["im hangry"],
    when=lambda r: r.opening,
)
def _identity_name_im_alone(m: re.Match[str], r: Reading) -> None:
    # A message that opens with "I'm Kenji." alone.
    if m.group(1)[0].isupper() and not NOT_A_NAME.search(m.group(1)) and r.as_typed(m.group(1)):
        r.add("identity", "name", m.group(1))


@rules.match(
    "identity.name/nice-to-meet",
    rf"(?:{HELLO}[!,.]*\s+)?((?-i:[A-Z][\w'-]+ [A-Z][\w'-]+)),? (?:nice|pleased|good|great|lovely) to",
    examples=["Morning! Olu Adeyemi, nice to e-meet you."],
    counterexamples=["Good morning! The Beatles, nice to hear them."],
    when=lambda r: r.opening,
)
def _identity_name_nice_to_meet(m: re.Match[str], r: Reading) -> None:
    # "Morning! Olu Adeyemi, nice to e-meet you."
    if may_be_name(m.group(1)):
        r.add("identity", "name", m.group(1))


@rules.match(
    "identity.name/im-introduced",
    rf"({HELLO}[,!.]?\s+)?(?:i'm|i am|this is)\s+{NAME}(?:[,.!]|$| and\b| here\b)",
    examples=["Hi, I'm Ines Duarte.", "I'm Hana, a designer"],
    counterexamples=["im hangry"],
    when=lambda r: not said_outright(r),
)
def _identity_name_im_introduced(m: re.Match[str], r: Reading) -> None:
    # A self-introduction: "Hi, I'm Ines Duarte." Capitalised, at the start, after a greeting, as a full
    # name, or followed by what they do ("I'm Hana, a designer"), so "I'm Dutch." or "I'm Tired." is not one.
    name = m.group(2)
    rest = r.s[m.end(2):]
    aged = re.match(r", (\d{1,2}),", rest)  # "I'm Lucia, 34, I run a bakery"
    if aged:
        rest = rest[aged.end() - 1 :]  # what follows the age, from its comma
    described = aged is not None or re.match(r",? (?:a|an) (?-i:[a-z]+)", rest) is not None
    if name[0].isupper() and (m.group(1) or " " in name or described or r.greeted) and not NOT_A_NAME.search(name) and r.as_typed(name):
        r.add("identity", "name", name)
        if aged:
            r.add("identity", "age", aged.group(1))
        if n := re.match(rf",? (?:a|an) ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?))(?: from {PLACE}| (?:in|based in) {PLACE})?(?:[.,!;]|$| and\b| (?:at|in|for|with) )", rest):
            if JOB_WORDS.search(n.group(1)):
                r.add("work", "job", n.group(1))
            if n.group(2):
                r.add("identity", "hometown", n.group(2))
            if n.group(3) and not is_when(n.group(3)):
                r.add("location", "city", n.group(3))


@rules.match(
    "identity.name/here-its",
    (
        rf"{HELLO}(?: all| everyone)?[,!.]?\s+{NAME} here(?:[,.!]|$| and\b)|^((?-i:[A-Z][\w'-]+ [A-Z][\w'-]+)) here(?:[,.!]|$)"
        rf"|{HELLO}[,!.]?\s+it'?s {NAME}(?:[,.!]|$| here\b)"
        r"|^((?-i:[A-Z][\w'-]+)) here(?: again| btw| by the way)?(?:[,.!:;]|\s*$|\s+[^\w\s])"
    ),
    examples=["Daniel Okafor here.", "Hey, it's Sofia."],
    counterexamples=["Home here."],
    when=lambda r: not said_outright(r),
    unless="identity.name/im-introduced",
)
def _identity_name_here_its(m: re.Match[str], r: Reading) -> None:
    # "Daniel Okafor here." / "Hey, it's Sofia." / "Rafa here 👋" (one word alone: not a word of English,
    # so "Home here." or "Mum here, …" is not a name)
    name = m.group(1) or m.group(2) or m.group(3) or m.group(4)
    if name[0].isupper() and may_be_name(name) and (not m.group(4) or ((r.opening or r.index <= 1) and not is_common(name.lower()))):
        r.add("identity", "name", name)
        if n := re.search(rf"\b(?:living|based|who lives) in\s+{PLACE}", r.s[m.end():], re.I):
            # the rest of the introduction: "Rafa here, Spanish guy living in Berlin"
            if not is_when(n.group(1)):
                r.add("location", "city", n.group(1))


@rules.search(
    "identity.nickname/go-by",
    rf"\bi go by {NAME}",
    examples=["Hello! My name's Priya Raman, I go by Pri."],
    counterexamples=["Hello! Her name's Priya Raman, she goes by Pri."],
)
def _identity_nickname_go_by(m: re.Match[str], r: Reading) -> None:
    if m.group(1)[0].isupper():
        r.add("identity", "nickname", m.group(1))


@rules.search(
    "identity.age/im-aged",
    r"\bi(?:'m| am) (?:now |already )?(\d{1,3})(?: years old| years of age| years| yo|-years-old)?(?= now\b|[.,!;]|$| and\b"
    r"| this year\b| years old\b| as of\b| since\b| today\b| by the way\b| btw\b)|\bi (?:just |recently )?turned (\d{1,3})\b"
    r"|\bi (?:just )?(?:had|celebrated) my (\d{1,3})(?:st|nd|rd|th) birthday\b",
    examples=["I am 61 years."],
    counterexamples=["She is 61 years."],
)
def _identity_age_im_aged(m: re.Match[str], r: Reading) -> None:
    r.add("identity", "age", m.group(1) or m.group(2) or m.group(3))


@rules.search(
    "identity.name/changed-to",
    rf"\bi (?:legally |officially )?changed my name to {NAME}",
    examples=["I changed my name to Alex."],
    counterexamples=["She changed her name to Alex."],
)
def _identity_name_changed_to(m: re.Match[str], r: Reading) -> None:
    r.add("identity", "name", m.group(1))


@rules.search(
    "identity.hometown/from",
    rf"\bi(?:'m| am) (?:originally |actually |also )?from\s+{PLACE}|\bmy home ?(?:town|country)(?:,| is| of)\s+{PLACE}",
    examples=["I'm originally from Porto.", "This necklace is from my grandma in my home country, Sweden."],
    counterexamples=["This necklace is from her grandma in her home country, Sweden."],
)
def _identity_hometown_from(m: re.Match[str], r: Reading) -> None:
    r.add("identity", "hometown", m.group(1) or m.group(2))


@rules.match(
    "identity.name/speaking",
    rf"(?:{HELLO}[,!.]*\s+)?(?:(?:this is|it'?s) )?{NAME},? speaking\b",
    examples=["hello there, this is Mei speaking", "hi, Rui speaking"],
    counterexamples=["Hello, French speaking here."],
    when=lambda r: r.opening,
)
def _identity_name_speaking(m: re.Match[str], r: Reading) -> None:
    # "hello there, this is Mei speaking" / "hi, Rui speaking"
    if may_be_name(m.group(1)):
        r.add("identity", "name", m.group(1))


@rules.search(
    "identity.hometown/grew-up-in",
    rf"\bi (?:grew up|was born(?: and raised)?|was raised) in\s+(?:the )?{PLACE}",
    examples=["I grew up in Braga."],
    counterexamples=["I was born in March."],
)
def _identity_hometown_grew_up_in(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1).rstrip(".")):
        r.add("identity", "hometown", m.group(1))


@rules.search(
    "identity.language/speak",
    r"\bi (?:speak|am fluent in|'m fluent in|can speak) (?:(?:some|a bit of|a little|basic|fluent|good"
    r"|decent) )?((?-i:[A-Z][a-z]+)(?:(?:,| and| or)+ (?:(?:some|a bit of|a little|basic|fluent|good|decent|bad|broken) )*(?-i:[A-Z][a-z]+))*)",
    examples=["I speak Portuguese, Spanish and a bit of German."],
    counterexamples=["She speaks Portuguese, Spanish and a bit of German."],
)
def _identity_language_speak(m: re.Match[str], r: Reading) -> None:
    for language in re.findall(r"(?-i:[A-Z][a-z]+)", m.group(1)):
        if language not in NOT_NAMES:
            r.add("identity", "language", language)


@rules.match(
    "identity.name/terse",
    rf"(?:{HELLO}[!,.]*\s+)?{NAME},\s*(\d{{1,2}})\b(?:,\s*(?:an? )?((?-i:[a-z]+(?: [a-z]+){{0,2}}?))(?: (?:in|from|based in) {PLACE})?)?[.!]?$",
    examples=["Leo, 27, software dev in Toronto"],
    counterexamples=["Anna, 34, is my cousin."],
    when=lambda r: r.opening,
)
def _identity_name_terse(m: re.Match[str], r: Reading) -> None:
    # "Leo, 27, software dev in Toronto": a terse introduction.
    if may_be_name(m.group(1)) and (not m.group(3) or is_job(m.group(3))):
        r.add("identity", "name", m.group(1))
        r.add("identity", "age", m.group(2))
        if m.group(3) and is_job(m.group(3)):
            r.add("work", "job", m.group(3))
        if m.group(4) and not is_when(m.group(4)):
            r.add("location", "city", m.group(4))


@rules.match(
    "identity.name/terse-lower-case",
    (
        rf"(?:{HELLO}[!,.]*\s+)?((?-i:[a-z][a-z'-]{{1,20}})),\s*(\d{{2}}),\s*(?:an? )?([a-z]+(?: [a-z]+){{0,2}}?)"
        rf"(?: (?:at|for|with) (?:an? |the )?[\w&' -]+?)?(?: (?:in|from|based in) {PLACE})?[.!]?$"
    ),
    examples=["kai, 29, backend dev at a fintech startup in berlin"],
    counterexamples=["male, 29, engineer"],
    when=lambda r: r.opening,
    unless="identity.name/terse",
)
def _identity_name_terse_lower_case(m: re.Match[str], r: Reading) -> None:
    # "kai, 29, backend dev at a fintech startup in berlin": typed in lower case, a name known by its place
    # in a name, an age and a job (so "nurse, 29, …" or "me, 29, …" is not one)
    name, job = m.group(1), m.group(3).lower()
    if (is_job(job) and not is_job(name) and not re.fullmatch(HELLO, name, re.I) and 16 <= int(m.group(2)) <= 99
            and name not in NOT_INTRODUCED):
        r.add("identity", "name", name.capitalize())
        r.add("identity", "age", m.group(2))
        r.add("work", "job", job)
        if m.group(4) and not is_when(m.group(4)):
            r.add("location", "city", m.group(4))


@rules.match(
    "identity.age/years-old",
    r"(\d{2}) (?:years old|yo|y/o)(?=[.,!;]|$| and\b| now\b| btw\b| today\b)",
    examples=["29 years old and my back already hurts"],
    counterexamples=["12 years old when I started skating."],
)
def _identity_age_years_old(m: re.Match[str], r: Reading) -> None:
    # "29 years old and my back already hurts": an age said without "I'm"
    if 16 <= int(m.group(1)) <= 99:
        r.add("identity", "age", m.group(1))


@rules.search(
    "identity.age/turned",
    r"(?:^|[,;]\s*)(?:just |finally )?turned (\d{2})(?= (?:last|this|yesterday|today|on|and)\b|[.,!;]|$)",
    examples=["got it for my birthday, turned 26 last week"],
    counterexamples=["My son turned 16 last week."],
)
def _identity_age_turned(m: re.Match[str], r: Reading) -> None:
    if 16 <= int(m.group(1)) <= 99:
        r.add("identity", "age", m.group(1))  # "got it for my birthday, turned 26 last week"


@rules.fullmatch(
    "identity.name/its-after-greeting",
    rf"it'?s {NAME}(?: here)?[.!]*",
    examples=["Coucou! It's Margot."],
    counterexamples=["Hello! It's Monday."],
    when=lambda r: r.greeted,
)
def _identity_name_its_after_greeting(m: re.Match[str], r: Reading) -> None:
    if may_be_name(m.group(1)) and r.as_typed(m.group(1)) and not is_when(m.group(1)):
        r.add("identity", "name", m.group(1))  # "Coucou! It's Margot."


@rules.match(
    "identity.age/at-age",
    r"(?:and |but |so )?at (\d{2}),? (?:i|i'm|i've|i'd|my)\b",
    examples=["At 38 I finally have a hobby that isn't marking."],
    counterexamples=["At 38 she finally has a hobby that isn't marking."],
)
def _identity_age_at_age(m: re.Match[str], r: Reading) -> None:
    # "At 38 I finally have a hobby that isn't marking."
    if 16 <= int(m.group(1)) <= 99:
        r.add("identity", "age", m.group(1))


@rules.search(
    "identity.name/sign-from",
    rf"\bsign(?: (?:it|this|them|the (?:email|letter|card|note|message)))?(?: off)? (?:from|as|with)\s+{NAME}",
    examples=["Sign it from Tomás Ferreira, flat 3B."],
    counterexamples=["Sign it from Mum and Dad."],
)
def _identity_name_sign_from(m: re.Match[str], r: Reading) -> None:
    # "Sign it from Tomás Ferreira, flat 3B.": who writes is the user
    if may_be_name(m.group(1)) and not re.fullmatch(RELATIONS, m.group(1).split()[0], re.I):
        r.add("identity", "name", m.group(1))

RULES = rules.rules
