"""Finding facts about the user in what they wrote.

Two extractors, both applied only to the *user's* words (never the assistant's):
- ``rule_candidates``: a few high-precision patterns ("my name is …", "I live in …", "my sister is …").
- ``model_candidates``: the chat (or a configured extraction) model, with llama.cpp's JSON-schema
  constrained output so the reply always parses, even from a 135M model. Its candidates are kept only
  if their value is *grounded*: every content word of it appears in the user's message. A small model
  invents things; this check throws the inventions away.

Sentences that are questions, hypotheticals, role-play or instructions yield nothing, and a message
that asks not to be remembered yields nothing at all.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable

from pmem.core.engine.base import ChatEngine, GenerationParams
from pmem.core.profile.casing import is_common, restored
from pmem.core.profile.model import CATEGORIES, Candidate, is_single_valued, slot_of, slug
from pmem.core.profile.reading import INSTRUCTION, INTRO_LIST, SIGNED, clauses, listed_goals, tidied, usable_sentences
from pmem.core.profile.transitions import transition_candidates
from pmem.core.profile.vocab import (
    BREEDS, BUSINESSES, FIRST_STINT, FOODS, JOB_PHRASE, JOB_WORDS, ORG, PASTIME_GERUNDS, PASTIMES, PETS, PLACE, RELATIONS, is_job, is_when,
)

_STOP_VALUE = re.compile(
    r"\s+(and|but|because|since|so|who|which|where|with|for|when|while|although|though|more than|rather than|every|"
    r"before(?!-)|after(?!-)|until|unless|if|"
    r"each|on (?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays|weekends)|"
    r"in the (?:mornings?|evenings?|afternoons?|summers?|winters?)|at (?:night|weekends|the weekend)|after work|before work)\b.*$|"
    r"\s+[-\u2013\u2014]+\s.*$",
    re.I,
)

#: Short forms people type for their relations, and the attribute each is kept under.
_RELATION_WORDS = {"headteacher": "manager", "head teacher": "manager", "supervisor": "manager", "line manager": "manager", "team lead": "manager", "mum": "mother", "mom": "mother", "dad": "father", "bf": "boyfriend", "gf": "girlfriend", "hubby": "husband", "wifey": "wife"}
# Capitalised words, matched case-sensitively inside otherwise case-insensitive patterns.
_NAME = r"((?-i:[A-Z][\w'-]+(?: (?!I\b)[A-Z][\w'-]+)?))"  # not "Priya I'm" of an unpunctuated "my name is Priya I'm a nurse"
_HELLO = r"(?:hi|hello|hey|hiya|ciao|hola|bonjour|coucou|hallo|hoi|salut|hej|hei|moin|olá|ola|yo|howdy|greetings|morning|evening|good (?:morning|afternoon|evening)|new here)(?: there)?"

#: Words a chat sentence may open with before its subject ("So I …", "Update: left …", "Now I'm …").
_OPENERS = r"(?:ok|okay|so|also|and|well|honestly|anyway|update|news|now|then|but|still)"
#: A chat sentence often drops its "I": "Left Monzo last month.", "Turned 38 on Saturday.", "Been married for six
#: years." Such an opening verb gets its subject back before the patterns run. Verbs that are also common nouns at
#: the start of a sentence ("Love is…", "Work is…", "Live music…") are not in the list, but "live in" is ("live in
#: Stockholm with my partner", an item of a list about oneself).
_DROPPED_I = re.compile(
    rf"^(?:{_OPENERS}[,:!]?\s+)?"
    r"(?:(left|quit|moved|relocated|started|turned|finished|got|joined|adopted|sold|retired|switched|went|took|scrapped|dropped|ditched|shelved|abandoned|stopped|live(?= in\b)|signed(?= up\b)|want(?= to\b))|(been)|"
    r"(just|finally|recently)|(working|living|learning|training|moving|starting|trying|reading|eating|leaving|joining|studying|obsessed(?= with\b)))\b",
    re.I,
)


def _with_subject(sentence: str) -> str:
    """The sentence with the "I" a chat message left out put back (see ``_DROPPED_I``)."""
    m = _DROPPED_I.match(sentence)
    if m is None:
        return sentence
    if m.group(4) and re.match(r"\w+ing\b[^,.;]*?\b(?:is|was|are|were|can|could|makes|made|feels|felt|has been|seems|takes)\b", sentence[m.start(4):], re.I):
        return sentence  # a gerund as the subject: "Learning another language is tough."
    rest = sentence[m.start(1) if m.group(1) else m.start(2) if m.group(2) else m.start(3) if m.group(3) else m.start(4):]
    lead = "I " if m.group(1) or m.group(3) else "I've " if m.group(2) else "I'm "
    return lead + rest[0].lower() + rest[1:]


#: "I've" or "we've" before a verb that is not "been", "got" or "had": the patterns read the simple past, so the
#: sentence is read a second time in it ("I've cut out sugar" as "I cut out sugar").
_PERFECT = re.compile(
    r"\b(i|we)(?:'ve| have) (?:(just|finally|recently|also|now|already) )?(?!been\b|got\b|had\b|to\b|no\b|not\b|never\b)"
    r"((?!(?:need|used|finished|achieved|completed|reached)\b)[a-z]+ed|cut|put|set|quit|left|made|found|bought|sold|taken|given|gone|begun|seen|written|eaten|driven|become|"
    r"run|won|lost|kept|met|built|split|broken)\b",
    re.I,
)
_PARTICIPLES = {"taken": "took", "given": "gave", "gone": "went", "begun": "began", "seen": "saw", "written": "wrote",
                "eaten": "ate", "driven": "drove", "become": "became", "broken": "broke"}
#: "Lotte and me are not together", "me and Tom broke up": "me" as a subject, read as "I".
_ME_AND = re.compile(r"\b((?-i:[A-Z][\w'-]+)) and me\b(?= (?:are|were|have|had|got|broke|split|went|moved|live|lived|'re|'ve|aren't)\b)|^me and ((?-i:[A-Z][\w'-]+))\b", re.I)


def _plain(sentence: str) -> str:
    """The sentence with its present perfect as the simple past and a subject "me" as "I" (see ``_PERFECT``)."""
    out = _PERFECT.sub(lambda m: f"{m.group(1)} {m.group(2) + ' ' if m.group(2) else ''}{_PARTICIPLES.get(m.group(3).lower(), m.group(3))}", sentence)
    return _ME_AND.sub(lambda m: f"{m.group(1) or m.group(2)} and I", out)


def _greeted(text: str, sentence: str) -> bool:
    """Whether the message opens with a greeting of its own just before this sentence ("Hello! I'm Hana.")."""
    return re.match(rf"\s*{_HELLO}[!.,]*\s*$", text[: max(text.find(sentence), 0)], re.I) is not None


#: Where one lives, before the town it is in: "I live in a bungalow in Ripon".
_DWELLING = r"(?:a|an|the|our|my) (?:[a-z]+ ){0,2}?(?:house|flat|bungalow|cottage|apartment|studio|houseboat|terrace|room|caravan|farmhouse|condo|loft|village|town|suburb|place|home)"
#: Words before ", 29, …" that describe, not name: "me, 29, nurse", "male, 29, engineer".
_NOT_INTRODUCED = frozenset("me myself male female man woman guy girl boy dude lady mum mom dad mother father wife husband age update".split())
#: Conditions a person lives with, as an alternation (no group: callers wrap it).
_CONDITIONS = (
    r"diabetes|type \d diabetes|asthma|celiac disease|coeliac disease|adhd|migraines|epilepsy|arthritis|crohn'?s(?: disease)?|"
    r"(?:high|low) (?:cholesterol|blood pressure|blood sugar)|hypertension|eczema|psoriasis|ibs|gout|tinnitus|sleep apno?ea|hypothyroidism|"
    r"atrial fibrillation|afib|angina|copd|osteoporosis|osteoarthritis|glaucoma|anaemia|anemia|endometriosis|pcos|fibromyalgia|lupus|"
    r"multiple sclerosis|parkinson'?s(?: disease)?|heart failure|a heart condition|long covid"
)
#: Sports played in a team or league ("joined a netball team"); a team at work is not a pastime.
_TEAM_SPORTS = frozenset(
    "football soccer rugby cricket hockey netball basketball volleyball softball baseball handball polo rowing "
    "darts quiz bowling tennis badminton squash hurling camogie lacrosse frisbee dodgeball korfball".split()
) | {"water polo", "pub quiz", "ultimate frisbee"}  # not "water", "pub" or "ultimate" alone
_SMALL_NUMBERS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
#: Jobs people write as their initials, in capitals.
_ACRONYM_JOBS = r"(?-i:CEO|CTO|CFO|COO|CIO|SRE|SWE|SDE|PM|QA|UX designer|UI designer|GP|HR manager|IT manager|IT consultant)"

_GREETING = r"(?:(?:hi|hello|hey|so|well|yes|yeah|also|anyway|big news|update|good news)(?: there)?[,!:.]?\s+)"
#: "-ing" words after "I've been" that are not pastimes.
_NOT_HOBBIES = frozenset(
    "thinking feeling working looking trying going getting doing having wondering meaning planning waiting struggling dealing "
    "talking saying hoping considering dying telling asking using spending taking making sleeping eating living staying "
    "coming helping watching listening being sitting keeping putting seeing worrying stressing learning "
    "missing needing wanting studying applying interviewing searching researching moving packing saving".split()
)

#: Capitalised words after "I'm" that are not names: nationalities, languages, moods, titles.
_NOT_A_NAME = re.compile(
    r"^(?:[A-Z][a-z]+(?:ish|ese)|Dutch|French|Greek|Thai|American|German|Italian|Indian|Korean|Canadian|Mexican|Sorry|Fine|Good|Great|Okay|Ok|Back|Here|Just|So|Not|Still|Also|"
    r"Really|Very|Currently|Now|Done|Ready|Happy|Glad|Tired|Busy|Home|Going|Trying|Looking|Thinking|Doing|Working|Mr|Mrs|Ms|Dr)\b"
)
_NOT_NAMES = frozenset({"I", "I'm", "I've", "I'd", "I'll", "The", "A", "An", "And", "But", "So", "My", "He", "She", "They", "We", "It", "It's"})


def _listed_names(names: str) -> list[str]:
    """The capitalised names of a list ("Luna, Nico and Pipoca")."""
    return [n for n in re.findall(r"(?-i:[A-Z][\w'-]+)", names) if n not in _NOT_NAMES]


#: A new employer, and the job when it is named: (employer, job) groups.
_NEW_EMPLOYER = (
    re.compile(rf"\bi (?:just |recently |finally )?(?:joined|moved to|switched to|went to) (?:an? (?:\w+ )?(?:startup|company|firm|team|agency|studio|lab) (?:called|named) )?{ORG} as (?:a|an|the|their|its) ((?-i:(?:[a-z-]+ ){{0,3}}[a-z-]+))", re.I),
    re.compile(rf"\bi(?: got| found| landed| accepted|'ve got| have got) (?:a |my |the )?(?:new )?(?:job|role|position) (?:at|with) {ORG}(?: as (?:a|an) ((?-i:(?:[a-z-]+ ){{0,3}}[a-z-]+)))?", re.I),
)


def _may_be_name(words: str) -> bool:
    """Whether capitalised words after "I'm" or a greeting may be a name: not a nationality, a mood or a title, and
    not opening with a pronoun or an article."""
    return not _NOT_A_NAME.search(words) and words.split()[0] not in _NOT_NAMES


#: A title: capitalised words, allowing small joining words ("The Lord of the Rings").
_TITLE = r"((?:The |A |An )?[A-Z][\w'-]+(?: (?:(?:of|the|and|in|on|a|to|for) )*[A-Z][\w'-]+)*)"




_TRAILING = re.compile(
    r"\s+(anymore|any more|now|again|these days|nowadays|lately|on (the )?weekends|at weekends|every day|"
    r"a lot|so much|too|as well|by the way|on the side|last (week|month|year)|this (week|month|year)|"
    r"next (week|month|year|summer|spring|autumn|winter)|for now|at all|lol|haha|rn|atm|tbh|ngl)$",
    re.I,
)


def _clean(value: str) -> str:
    value = _STOP_VALUE.sub("", value.strip()).strip(" .,;:!\"'()")
    while (shorter := _TRAILING.sub("", value)) != value:
        value = shorter.strip(" .,;:!\"'()")
    return value


def rule_candidates(text: str, *, origin: str = "extracted", confidence: float = 0.9) -> list[Candidate]:
    """High-precision patterns over the user's own sentences."""
    typed = text
    text = tidied(restored(text))  # "my wife ola" is read as "my wife Ola"; emoji and hashtags carry no words
    found: list[Candidate] = []

    def as_typed(name: str) -> bool:
        """Whether the user wrote this name with its capital: after "I'm", a word given one by ``restored`` is as
        likely a mood ("im hangry") as a name, so those introductions take only names typed as names."""
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", typed) is not None

    def add(category: str, attribute: str, value: str) -> None:
        value = _clean(value)
        if value and len(value) <= 80 and value.lower() not in _FILLER:
            found.append(Candidate(category, attribute, value, confidence, origin))

    index = 0  # which sentence of the message is read: "omg first week done!! zoe here btw" introduces, too

    def scan(s: str, opening: bool, greeted: bool) -> None:
        found.extend(transition_candidates(s))  # endings first: "I quit X and I'm now at Y" must not end Y
        if opening and (m := re.fullmatch(rf"(?:i'm|i am) {_NAME}[.!]?", s, re.I)):
            # A message that opens with "I'm Kenji." alone.
            if m.group(1)[0].isupper() and not _NOT_A_NAME.search(m.group(1)) and as_typed(m.group(1)):
                add("identity", "name", m.group(1))
        if opening and (m := re.match(rf"(?:{_HELLO}[!,.]*\s+)?((?-i:[A-Z][\w'-]+ [A-Z][\w'-]+)),? (?:nice|pleased|good|great|lovely) to", s, re.I)):
            # "Morning! Olu Adeyemi, nice to e-meet you."
            if _may_be_name(m.group(1)):
                add("identity", "name", m.group(1))
        named = re.search(rf"(?:\bmy name is|\bmy name'?s|^name(?: is|'s)|\bi'?m called|\bi am called)\s+{_NAME}", s, re.I)
        called = re.search(rf"\bcall me\s+{_NAME}", s, re.I)
        if named and named.group(1)[0].isupper():
            add("identity", "name", named.group(1))
        if called and called.group(1)[0].isupper() and _may_be_name(called.group(1)) and not is_when(called.group(1).split()[0]):
            # "Name is Oleksandr, call me Sasha": the name and what to call them
            add("identity", "nickname" if named else "name", called.group(1))
        said_outright = named is not None or called is not None  # the introductions below would find it again
        if not said_outright and (m := re.match(rf"({_HELLO}[,!.]?\s+)?(?:i'm|i am|this is)\s+{_NAME}(?:[,.!]|$| and\b| here\b)", s, re.I)):
            # A self-introduction: "Hi, I'm Ines Duarte." Capitalised, at the start, after a greeting, as a full
            # name, or followed by what they do ("I'm Hana, a designer"), so "I'm Dutch." or "I'm Tired." is not one.
            name = m.group(2)
            rest = s[m.end(2):]
            aged = re.match(r", (\d{1,2}),", rest)  # "I'm Lucia, 34, I run a bakery"
            if aged:
                rest = rest[aged.end() - 1 :]  # what follows the age, from its comma
            described = aged is not None or re.match(r",? (?:a|an) (?-i:[a-z]+)", rest) is not None
            if name[0].isupper() and (m.group(1) or " " in name or described or greeted) and not _NOT_A_NAME.search(name) and as_typed(name):
                add("identity", "name", name)
                if aged:
                    add("identity", "age", aged.group(1))
                if n := re.match(rf",? (?:a|an) ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?))(?: from {PLACE}| (?:in|based in) {PLACE})?(?:[.,!;]|$| and\b| (?:at|in|for|with) )", rest):
                    if JOB_WORDS.search(n.group(1)):
                        add("work", "job", n.group(1))
                    if n.group(2):
                        add("identity", "hometown", n.group(2))
                    if n.group(3) and not is_when(n.group(3)):
                        add("location", "city", n.group(3))
        elif not said_outright and (m := re.match(rf"{_HELLO}(?: all| everyone)?[,!.]?\s+{_NAME} here(?:[,.!]|$| and\b)|^((?-i:[A-Z][\w'-]+ [A-Z][\w'-]+)) here(?:[,.!]|$)|{_HELLO}[,!.]?\s+it'?s {_NAME}(?:[,.!]|$| here\b)"
                                                  r"|^((?-i:[A-Z][\w'-]+)) here(?: again| btw| by the way)?(?:[,.!:;]|\s*$|\s+[^\w\s])", s, re.I)):
            # "Daniel Okafor here." / "Hey, it's Sofia." / "Rafa here 👋" (one word alone: not a word of English,
            # so "Home here." or "Mum here, …" is not a name)
            name = m.group(1) or m.group(2) or m.group(3) or m.group(4)
            if name[0].isupper() and _may_be_name(name) and (not m.group(4) or ((opening or index <= 1) and not is_common(name.lower()))):
                add("identity", "name", name)
                if n := re.search(rf"\b(?:living|based|who lives) in\s+{PLACE}", s[m.end():], re.I):
                    # the rest of the introduction: "Rafa here, Spanish guy living in Berlin"
                    if not is_when(n.group(1)):
                        add("location", "city", n.group(1))
        if m := re.search(rf"\bi go by {_NAME}", s, re.I):
            if m.group(1)[0].isupper():
                add("identity", "nickname", m.group(1))
        if m := re.search(r"\bi(?:'m| am) (?:now |already )?(\d{1,3})(?: years old| years of age| years| yo|-years-old)?(?= now\b|[.,!;]|$| and\b| this year\b| years old\b| as of\b| since\b| today\b| by the way\b| btw\b)|\bi (?:just |recently )?turned (\d{1,3})\b|\bi (?:just )?(?:had|celebrated) my (\d{1,3})(?:st|nd|rd|th) birthday\b", s, re.I):
            add("identity", "age", m.group(1) or m.group(2) or m.group(3))
        if m := re.search(rf"\b(?:i|we) (?:now |still |currently |both )?(?:live|am living|'m living|are living|'re living) in\s+(?:{_DWELLING} (?:in|near|outside|just outside) )?(?:the )?{PLACE}", s, re.I):
            add("location", "city", m.group(1))
        if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:just |recently |finally |also )?(?:moved|relocated)(?: back)? to\s+(?:{_DWELLING} (?:in|near|outside|just outside) )?{PLACE}", s, re.I):
            # "I moved to a smaller place in Matosinhos"
            add("location", "city", m.group(1))
        if m := re.search(rf"(?:^(?:now |finally |all |just )?|\b(?:i|we)(?:'m| am|'ve| have|'re| are)? (?:now |finally |all |currently |still |been )*)(?:settled|based|living|unpacked) in\s+(?:the )?{PLACE}", s, re.I):
            if not re.search(r"\b(will|going to|plan|hope|want)\b", s, re.I):
                add("location", "city", m.group(1))
        if m := re.search(rf"\b(?:i|we)(?:'m| am|'re| are) back (?:home )?in {PLACE}", s, re.I):
            add("location", "city", m.group(1))
        elif m := re.search(rf"\b(?:i|we)(?:'m| am|'re| are) (?:now )?(?:in|over in) (?:{_DWELLING} (?:in|near|outside|just outside) |the )?{PLACE}(?: now\b)?", s, re.I):
            if (m.group(0).endswith("now") or re.search(r"\b(moved|move|moving house|settled|relocated)\b", s, re.I)) and not is_when(m.group(1)):
                add("location", "city", m.group(1))
        if m := re.search(r"\bi(?: got| found| landed| accepted|'ve got| have got) (?:a |my )?(?:new )?job as (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}[a-z-]+))"
                          r"|\bi(?: got| was| have been|'ve been) promoted to (?:a |an )?((?-i:(?:[a-z-]+ ){0,2}[a-z-]+))", s, re.I):
            job = _clean(m.group(1) or m.group(2))
            if is_job(job):
                add("work", "job", job)
        if m := re.search(r"\bi (?:have |'ve )?(?:just |finally |recently |now |officially )*(?:qualified|graduated) as (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+?))"
                          r"(?= (?:last|this|in|on|at|from|after|so|and|but|now|today|yesterday)\b|[.,!;]|$)"
                          r"|(?:^|\bi(?:'m| am) )(?:now |finally )?officially (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+?))(?= now\b|[.,!;]|$| (?:and|so|but)\b)"
                          r"|\bi(?:'m| am) \d{1,3}(?: years old)?, (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+?))(?=[.,!;]|$| and\b| (?:at|in|for|with|from)\b)", s, re.I):
            # "I finally qualified as a midwife", "officially a psychologist now", "I am 74, a retired headmaster"
            job = next(g for g in m.groups() if g)
            if is_job(job) and not re.search(r"\b(student|vegetarian|vegan)\b", job, re.I) and not _NOT_YET.search(s):
                add("work", "job", job)
        if m := re.search(r"\bi (?:fully |really |firmly )?(?:intend|aim|am determined|'m determined) to ((?-i:[a-z]+)[\w' -]{2,60})", s, re.I):
            if " " in m.group(1).strip() and not re.match(r"(be|do|say|make sure|keep|try|ask|have|get)\b", m.group(1), re.I):
                add("goals", "goal", m.group(1))  # "I intend to walk the Dales Way next summer"
        if m := re.search(rf"\bi (?:now |directly |currently )*report (?:directly )?to {_NAME}", s, re.I):
            if _may_be_name(m.group(1)):
                add("people", "manager", m.group(1))
        if m := re.search(rf"(?:\b(?:our|my) |^)new (?:place|flat|apartment|house|home) (?:is |here )?in\s+(?:the )?{PLACE}", s, re.I):
            if not is_when(m.group(1)):
                add("location", "city", m.group(1))
        if m := re.search(rf"\bi (?:legally |officially )?changed my name to {_NAME}", s, re.I):
            add("identity", "name", m.group(1))
        if m := re.search(rf"\bi(?:'m| am) (?:originally |actually |also )?from\s+{PLACE}|\bmy home ?(?:town|country)(?:,| is| of)\s+{PLACE}", s, re.I):
            add("identity", "hometown", m.group(1) or m.group(2))
        if m := re.match(rf"(?:and |but |so )?as an? ((?-i:[a-z]+(?: [a-z]+)?)|{_ACRONYM_JOBS})(?: (?:working|based|living) in {PLACE})?,? (?:i|my|i'm|i've|i'd|me)\b", s, re.I):
            if m.group(2) and not is_when(m.group(2)) and (is_job(m.group(1).lower()) or re.fullmatch(_ACRONYM_JOBS, m.group(1))):
                add("location", "city", m.group(2))  # "As a GP working in Tromsø, I often …"
            if re.fullmatch(_ACRONYM_JOBS, m.group(1)):
                add("work", "job", m.group(1))
            # "As a writer, my laptop is half my lifeline." (not "as a mother" or "as a kid": a role, not a job)
            job = m.group(1).lower()
            if is_job(job):
                add("work", "job", job)
        if m := re.search(rf"\bi (?:now |still |currently |also )?work (?:at|for)\s+{ORG}(?: in {PLACE})?", s, re.I):
            add("work", "employer", m.group(1))
            if m.group(2) and not is_when(m.group(2)):
                add("location", "city", m.group(2))  # "I work at Arup in Leeds"
        if m := re.search(rf"(?:\bi(?:'m| am| (?:now |still |currently )?work as)|^(?:{_GREETING})?(?:i'?m|i am)\b.*?,? (?:currently |now )?working as) (?:now |currently |still |also )?(?:a|an) ((?-i:(?:[a-z-]+ ){{0,2}}?[a-z-]+?))(?: (?:at|for) {ORG})?(?: (?:in|based in|based out of) {PLACE})?(?:[.,!;]|$| and\b| now\b| (?:at|in|for|with) (?:a|an|the) [a-z])", s, re.I):
            if is_job(m.group(1).lower()) and not re.search(r"\b(fan|bit|lot|big|huge)\b", m.group(1), re.I):
                add("work", "job", m.group(1).lower())
                if m.group(2) and not is_when(m.group(2)):
                    add("work", "school" if m.group(1).lower().endswith("student") else "employer", m.group(2))
                if m.group(3) and not is_when(m.group(3)):
                    add("location", "city", m.group(3))
        if m := re.search(r"\bi (?:now |still |currently )?teach(?: (\w+)(?: \w+)?)? (?:at|in|to)\b", s, re.I):
            subject = (m.group(1) or "").lower()
            add("work", "job", f"{subject} teacher" if subject and subject not in ("kids", "children", "students", "adults", "there", "here") else "teacher")
            if n := re.search(rf"\bteach(?: \w+(?: \w+)?)? at {ORG}(?: in {PLACE})?", s, re.I):
                # "I teach chemistry at Rushey Mead School in Leicester"
                if not is_when(n.group(1)):
                    add("work", "employer", n.group(1))
                if n.group(2) and not is_when(n.group(2)):
                    add("location", "city", n.group(2))
        if m := re.search(rf"\bi (?:just |finally |recently )?(?:got (?:a|the) job|got hired|was hired|started (?:a new job|working|a job|a position)|joined|took a (?:job|position) at|started at) (?:as (?:a|an) [a-z -]+? )?(?:at|by|for|with)? ?{ORG}", s, re.I):
            if not re.search(r"\b(will|going to|next)\b", s, re.I) and not is_when(m.group(1)):
                add("work", "employer", m.group(1))
        if m := re.search(rf"\bmy ({RELATIONS}) is no longer {_NAME}(?:[,;]? (?:it'?s|now it'?s|they'?re|but) {_NAME})?", s, re.I):
            # "My boss is no longer Karen, it's Paolo now."
            found.append(Candidate("people", _relation(m.group(1)), m.group(2), confidence, origin, kind="end"))
            if m.group(3) and m.group(3)[0].isupper():
                add("people", _relation(m.group(1)), m.group(3))
        for m in re.finditer(rf"\b(?:my|our) (?:new |old |little |older |younger |big )?({RELATIONS})(?:'s name)? is (?:now |still )?(?:called |named )?{_NAME}", s, re.I):
            if m.group(2)[0].isupper():
                add("people", _relation(m.group(1)), m.group(2))
        for m in re.finditer(rf"\b(?:my|our) (?:little |older |younger |big |new )?({RELATIONS}),? {_NAME}(?:'s)?(?: is (?:a|an) ((?:[a-z-]+ ){{0,2}}[a-z-]+?))?(?=[.,!;:]|$| [a-z])", s, re.I):
            # "my sister Clara is a firefighter": the person, and their job when one is given.
            if m.group(2)[0].isupper() and m.group(2).split()[0] not in _NOT_NAMES:
                job = m.group(3)
                value = f"{m.group(2)}, {_article(job.lower())}" if job and JOB_WORDS.search(job.lower()) else m.group(2)
                add("people", _relation(m.group(1)), value)
        for m in re.finditer(rf"\bmy ({PETS})(?:'s name)? is (?:called |named )?{_NAME}", s, re.I):
            if m.group(2)[0].isupper():
                add("pets", m.group(1).lower().replace(" ", "_"), m.group(2))
        if m := re.search(rf"\b{_NAME} and i (?:just )?got (engaged|married)\b|\bi (?:just )?got (engaged|married) to {_NAME}|\bi married {_NAME}"
                          rf"|\bi(?:'ve| have)? been (?:happily )?married to {_NAME}|\bi(?:'m| am) (?:happily )?married to {_NAME}"
                          rf"|\bi(?:'m| am) (?:now )?(?:seeing|dating) (?:someone(?: new)?|a (?:guy|girl|man|woman))\b[^.]*?\b(?:his|her|their) name is {_NAME}"
                          rf"|\bi(?:'m| am) (?:now )?(?:seeing|dating) {_NAME}", s, re.I):
            name = next((g for g in (m.group(1), *m.groups()[3:]) if g and g[0].isupper()), None)
            if name and name not in _NOT_NAMES:
                add("people", "partner", name)
        for m in re.finditer(rf"\b(?:i|we)(?: have|'ve got| have got| had) (?:a|an|one) (?:little |baby |young |teenage )?(son|daughter|boy|girl)(?:,? (?:called|named)|,)? {_NAME}", s, re.I):
            if m.group(2)[0].isupper() and not is_when(m.group(2).split()[0]):  # not "a girl Friday"
                add("people", {"boy": "son", "girl": "daughter"}.get(m.group(1).lower(), m.group(1).lower()), m.group(2))
        for m in re.finditer(rf"\bi(?: have|'ve got| have got) an? ({PETS}) (?:called|named) {_NAME}", s, re.I):
            if m.group(2)[0].isupper():
                add("pets", m.group(1).lower().replace(" ", "_"), m.group(2))
        if re.search(r"\b(?:i|we)(?:'ve| have)? (?:also |just |finally |recently )?(?:have|has|got|adopted|rescued|own|bought|brought home)\b"
                     r"|\b(?:i|we) (?:now |still )?(?:live|am living|'m living|share (?:a|my|the|our) (?:flat|house|home|place))\b[^.!?]*\bwith\b", s, re.I):
            # "I have a rabbit named Mochi and a very old dog, Bento."
            for m in re.finditer(rf"\b(?:a|an|our|my|two|second) (?:[\w-]+ ){{0,3}}?({PETS})(?: (?:called|named)|,) {_NAME}", s, re.I):
                if m.group(2)[0].isupper() and m.group(2) not in _NOT_NAMES:
                    add("pets", m.group(1).lower().replace(" ", "_"), m.group(2))
        for m in re.finditer(rf"\b(?:my|our) (?:[\w-]+ )?({PETS}),? (?:(?:a|an) [\w-]+ (?:called|named) )?{_NAME}(?=[.,!;:]|$| [a-z])|\b{_NAME}, (?:my|our) ({PETS})\b", s, re.I):
            # "My cat Pepper knocked…", "Oscar, my guinea pig."
            kind, name = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            if name[0].isupper() and name not in _NOT_NAMES:
                add("pets", kind.lower().replace(" ", "_"), name)
        if m := re.search(r"(?:\b(?:i have|we have|i've got|we've got|our|with my wife and|with my husband and|with my partner and)|(?<!has),) (two|three|four|five|\d) (?:grown-up |grown |young |little |teenage |adult )?(kids|children|boys|girls|sons|daughters)\b", s, re.I):
            add("people", "children", f"{m.group(1).lower()} {m.group(2).lower()}")
        elif m := re.search(r"\b(?:i have|i've got|we have) (?:a|one) (son|daughter|baby|kid)\b(?!,? (?:called|named))", s, re.I):
            add("people", "children", f"a {m.group(1).lower()}")
        elif m := re.search(r"\b(?:my|our) (kids|children|sons|daughters|twins|little ones)\b", s, re.I):
            add("people", "children", m.group(1).lower())
        if m := re.search(rf"\b(?:our|my) (?:(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ](?:year|month|week)[- ]old|newborn|baby|toddler|little one|eldest|youngest)\b[^.!?]*?\b(his|her) name is {_NAME}", s, re.I):
            # "Our one-year-old is so cute, his name is Kyle!"
            if m.group(2)[0].isupper() and m.group(2) not in _NOT_NAMES:
                add("people", "son" if m.group(1).lower() == "his" else "daughter", m.group(2))
        if m := re.search(rf"\bi (?:lost|got laid off from|was laid off from) my job (?:at|with) (?:the )?{ORG}|\bi used to work (?:at|for) {ORG}", s, re.I):
            add("work", "former_employer", m.group(1) or m.group(2))
        if m := re.search(r"\bmy (?:own |new |little )(?:([a-z]+) )?(studio|business|company|shop|bakery|restaurant|startup|café|cafe|clinic|agency|brand|label|podcast|channel)\b", s, re.I):
            add("projects", "business", " ".join(g for g in m.groups() if g).lower())
        if m := re.search(r"\bi(?:'m| am|'ve been| have been) (?:now |still |also |strictly |fully |a |an )*(vegetarian|vegan|pescatarian|keto|gluten[- ]free|omnivore)\b", s, re.I):
            add("health", "diet", m.group(1).lower())
        if m := re.search(r"\bi(?:'m| am| went| have gone|'ve gone| have been|'ve been| eat| keep) (gluten|dairy|lactose|sugar|meat|alcohol)[- ]free\b|\bi (?:cut out|gave up|quit|stopped eating|stopped drinking) (sugar|meat|alcohol|dairy|gluten|caffeine|coffee|booze)\b", s, re.I):
            add("health", "avoids", (m.group(1) or m.group(2)).lower())
        if m := re.search(r"\bi (?:switched|changed|moved|converted) to (?:a |an )?(vegetarian|vegan|pescatarian|keto|gluten[- ]free|paleo)\b|\bi(?: went| turned| became| have gone|'ve gone) (vegetarian|vegan|pescatarian|keto)\b", s, re.I):
            add("health", "diet", (m.group(1) or m.group(2)).lower())
        if m := re.search(r"\bi(?: started| eat| now eat| do eat|'m eating| am eating|'m now eating) (?:eating )?(?:(\w+) and )?(meat|fish|chicken|seafood)(?: and (meat|fish|chicken|seafood|eggs))? (?:again|now|these days)(?=[.,!;]|$| too\b| since\b)", s, re.I):
            # "eats meat" says the diet; a named diet in the same sentence ("so I'm pescatarian") says it better.
            eaten = [w.lower() for w in m.groups() if w and w.lower() in ("meat", "fish", "chicken", "seafood", "eggs")]
            if not re.search(r"\bi(?:'m| am|'ve been| have been) (?:now |a |an )*(vegetarian|vegan|pescatarian|keto)\b", s, re.I):
                add("health", "diet", "eats meat" if "meat" in eaten else f"eats {eaten[0]}")
        elif m := re.search(r"\bi(?:'m| am) (?:no longer|not) (?:a )?(vegetarian|vegan|pescatarian)(?: any ?more)?\b", s, re.I):
            if re.search(r"\b(no longer|any ?more)\b", s, re.I):
                add("health", "diet", f"no longer {m.group(1).lower()}")
        if m := re.search(rf"\bi (?:now |still )?(?:run|own|co-own|manage) (?:a|an|my own|our|my) (?:small |little |tiny |family |busy )?({BUSINESSES})(?: in {PLACE})?(?:,? called {ORG})?", s, re.I):
            add("work", "business", f"{m.group(1).lower()} {m.group(3)}" if m.group(3) else m.group(1).lower())
            if m.group(2) and not is_when(m.group(2)):
                add("location", "city", m.group(2))
        if m := re.search(r"\bi(?:'m| am) allergic to ([\w -]+)", s, re.I):
            add("health", "allergy", m.group(1).lower())
        if m := re.search(r"\bi(?:'m| am) ([a-z]+) intolerant\b", s, re.I):
            add("health", "intolerance", m.group(1).lower())
        if m := re.search(rf"\bi(?: have|'ve got| was diagnosed with| live with) ({_CONDITIONS})\b"
                          r"|\bi(?:'m| am) (diabetic|asthmatic|coeliac|celiac|epileptic)\b", s, re.I):
            add("health", "condition", (m.group(1) or m.group(2)).lower())
        if m := re.search(r"\bmy (cholesterol|blood pressure|blood sugar|iron) (?:is|was|has been|came back) (?:very |too |really |a bit )?(high|low)\b", s, re.I):
            add("health", "condition", f"{m.group(2).lower()} {m.group(1).lower()}")
        if m := re.search(r"\bi (?:don'?t|do not|never|no longer) (?:eat|drink) ([a-z]+(?: (?!(?:at|in|on|for|any|anymore|much|now)\b)[a-z]+)?)", s, re.I):
            if not re.match(r"(much|a lot|enough|that|it|this|out|breakfast|lunch|dinner)\b", m.group(1), re.I):
                add("health", "avoids", m.group(1).lower())
        if m := re.search(rf"\bi (?:now |still |currently |also |actually )?work (?:at|for) {ORG} as (?:a|an) ((?-i:(?:[a-z-]+ ){{0,2}}[a-z-]+))", s, re.I):
            add("work", "job", m.group(2).lower())
        if m := re.search(r"\bi (?:really |absolutely |just |also |still |truly |genuinely )?(?:love|like|enjoy|adore)\s+([\w' -]{3,40})", s, re.I):
            # Not a thing liked: "I love it", "I like that…", "I love when…", "I love the thought/the way…", "their work".
            if not re.match(
                r"(to know|it|that|this|these|those|you|your|their|his|her|its|how|what|when|all the|and|or|but|"
                r"the (idea|thought|way|fact|feeling|vibe|color|colour|taste|look|sound|tech|new|latest|changes?|update|result|answer|plan|"
                r"suggestion|design|layout)|to come|going to|being|making)\b",
                m.group(1), re.I,
            ):
                add("preferences", "likes", m.group(1).lower())
        if m := re.search(r"\bi (?:really |just |honestly )?(?:hate|dislike|detest|loathe|can'?t stand|cannot stand|(?:don'?t|dont|do not|no longer|never)(?: really| much| particularly)? (?:like|enjoy|liked|enjoyed|care for))\s+([\w' -]{3,40})"
                          r"|\bi(?:'m| am) not (?:a |really a |much of a |a big |a huge )?fan of\s+([\w' -]{3,40})", s, re.I):
            disliked = (m.group(1) or m.group(2)).lower()
            if not re.match(r"to (say|admit|break|bother|ask|interrupt|be|do this|disagree)\b|it\b|that\b|this\b|when\b|how\b", disliked):
                add("preferences", "dislikes", disliked)
        elif m := re.search(r"\bi(?:'m| am) (?:a |such a )?(?:big |huge |massive |real )?fan of\s+([\w' -]{3,40})|\bi(?:'m| am) (?:really |totally |very |so |now |also |more |big |huge )*into\s+([\w' -]{3,40})"
                            r"|\bi(?:'m| am) (?:all about|big on|a sucker for)\s+([\w' -]{3,40})|\bi(?:'ll| will) always (?:love|enjoy)\s+([\w' -]{3,40})"
                            r"|\bi(?:'ve| have)? always (?:had a (?:love|passion|soft spot) for|loved)\s+([\w' -]{3,40})"
                            r"|\bi (?:can'?t|cannot) get enough of\s+([\w' -]{3,40})|\bi(?:'m| am) (?:obsessed with|crazy about|mad about|hooked on)\s+([\w' -]{3,40})", s, re.I):
            value = next(g for g in m.groups() if g)
            if not re.match(r"(it|that|this|you|the idea|the way|him|her|them)\b", value, re.I):
                add("preferences", "likes", value.lower())
        if m := re.search(r"\bi (?:also |still |often |regularly |usually )?(?:play|practi[cs]e) (?:the )?([a-z]+(?:-[a-z]+)*(?: (?!(?:in|at|on|with|for|every|after|before|when|while)\b)[a-z]+)?)"
                          r"|\bi(?: |'ve |'d | have )(?:(?:recently|just|finally|also) )?(?:(?:started|began) (?:playing|practi[cs]ing|doing)|(?:took|taken) up (?:playing|doing)) (?:the )?"
                          r"([a-z]+(?: (?!(?:last|about|for|since|when|with|again|years?|ago|in|at|on|and|but|as)\b)[a-z]+)?)"
                          r"|\bi(?: |'ve | have )(?:(?:recently|just|finally|also) )?(?:took|taken) up ((?:(?!(?:a|an|the|my|some)\b)[a-z]+ )?[a-z]+ing)\b", s, re.I):
            played = m.group(1) or m.group(2) or m.group(3)
            if not re.match(r"(a|an|with|around|it|that|this|along|them|him|her|my|some|games? with|on|in|for|to|music for|the role|role)\b", played, re.I):
                add("preferences", "hobby", _clean(played.lower()))
        if m := re.search(r"\bi (?:also |often |regularly |usually |still )?go ([a-z]+ing)\b|\bi(?:'ve| have) been ((?:cycling|biking|running|walking|jogging|skating|rowing|swimming)(?= to (?:work|school|the office|uni|college))|[a-z]+ing(?! to (?:work|school|the office|uni|college)))(?: to (?:work|school|the office|uni|college))?(?: a lot| lately| recently| again| more| every| for (?:years|ages|months|a while)| since)", s, re.I):
            verb = (m.group(1) or m.group(2)).lower()
            if verb not in _NOT_HOBBIES:
                add("preferences", "hobby", verb)
        if m := re.search(r"\b(?:i )?prefer (?:(?:answers|replies|responses|explanations) with )?(bullet points|bullets|lists|numbered lists|tables|code examples|code|examples|step-by-step)"
                          r"|\b(?:use|give me) (bullet points|lists|tables)\b", s, re.I):
            add("style", "format", next(g for g in m.groups() if g).lower())
        if m := re.match(r"(?:i'?m )?([a-z]+ing) is my (?:way|thing|passion|hobby|escape|therapy|happy place)\b", s, re.I):
            add("preferences", "hobby", m.group(1).lower())
        if m := re.search(r"\bi (?:now |also |still )?work (?:part-time |full-time |part time |full time )?at (?:a|an|the) ((?-i:[a-z]+(?: (?!(?:to|and|but|so|in|on|for|with|near|as|because|since|while|when)\b)[a-z]+)?))\b", s, re.I):
            if not re.match(r"(moment|time|weekend|same|home|end)\b", m.group(1)):
                add("work", "employer", m.group(1))
        if (m := re.search(rf"\bi(?:'m| am) (?:now )?(?:at|with) {ORG}(?: now\b)|\bi(?:'m| am) now (?:at|with) {ORG}", s, re.I)) and re.search(
            r"\b(jobs?|roles?|work|left|quit|company|team|position|hired|switched|joined)\b", text, re.I
        ):
            if not is_when(m.group(1) or m.group(2)):
                add("work", "employer", m.group(1) or m.group(2))
        if m := re.match(r"(?:i'?m )?(?:an? )?([a-z]+(?: [a-z]+)?) by day,? (?:and )?(?:an? )?([a-z]+(?: [a-z]+)?) by night\b", s, re.I):
            # "Software tester by day, amateur astronomer by night."
            if JOB_WORDS.search(m.group(1).lower()):
                add("work", "job", m.group(1).lower())
            add("preferences", "hobby", m.group(2).lower())
        if m := re.search(r"\bi(?: |'ve | have )(?:also |just |recently |now )?(?:started|began) (?:learning|to learn) (?:to play |how to play |to speak |to )?(?:the )?([a-z][\w' -]{2,40})", s, re.I):
            add("preferences", "learning", m.group(1).lower())
        if m := re.search(r"\bi(?:'m| am) (?:currently |also |now )?learning (?:to play |how to play |to speak |to )?(?:the )?([a-z][\w' -]{2,40})|\bmy (?:hobby|passion) is ([\w' -]{3,40})", s, re.I):
            value = (m.group(1) or m.group(2)).lower()
            if not re.match(r"(a ton|a lot|lots|so much|a bit|more|about|how|that|this|from|what|to be|it|new things)\b", value):
                add("preferences", "learning" if m.group(1) else "hobby", value)
        if m := re.search(r"\bi(?:'ve| have) been learning (?:to play |to speak |the )?([a-z][\w'-]*(?: [a-z][\w'-]*)?)(?= for\b| since\b| on\b| at\b|[.,!;]|$)", s, re.I):
            if not re.match(r"(a|about|how|that|this|more|so|it|to)\b", m.group(1), re.I):
                add("preferences", "learning", m.group(1).lower())
        if m := re.search(r"(?:\bmy |^)fav(?:ou?rite)? ([a-z]+(?: [a-z]+)?) is (?:now |still )?([\w' -][\w' .-]{1,59})", s, re.I):
            add("preferences", f"favourite_{m.group(1).lower()}", m.group(2))
        if m := re.search(r"\bi prefer (short|brief|concise|long|detailed|longer|shorter) (?:answers|replies|responses)"
                          r"|\b(?:keep|make) (?:your |the |all )?(?:answers|replies|responses) (short|brief|concise|long|longer|detailed|shorter)"
                          r"|\b(?:reply|answer|respond) (?:in )?(more detail|less detail|briefly|concisely|at length)", s, re.I):
            value = next(g for g in m.groups() if g).lower()
            add("style", "reply_length", {"more detail": "detailed", "at length": "long", "less detail": "short", "briefly": "short", "concisely": "concise"}.get(value, value))
        if m := re.search(r"\bi(?:'m| am) (?:currently )?(?:working on|building|writing) (?:a |an |my )?([\w' -]{3,50})", s, re.I):
            if not re.match(r"(something|anything|it|that|them|stuff|things)\b", m.group(1), re.I):
                add("projects", "project", m.group(1))
        if m := re.search(r"\bmy (?:new |main |big |biggest |current |next )?goal(?: now| for now)?(?: (?:this|for this|for the) (?:year|month|summer|spring|autumn|winter))? is (?:now |still )?to ([\w' -]{3,60})", s, re.I):
            add("goals", "goal", m.group(1))
        if m := re.search(r"\bi (?:really )?(?:want|would like|'d like|hope|plan) to (learn|become|visit|travel to|move to|run|start|get better at) ([\w' -]{3,50})", s, re.I):
            add("goals", "goal", f"{m.group(1).lower()} {m.group(2)}")
        if m := re.search(rf"\b[Ii](?:'m| am) (?:currently |now )?(?:reading|re-reading) (?:(?:a|an|this) (?:[a-z]+ ){{0,3}}(?:book|novel|memoir|biography|series),? (?:called|titled) )?[\"'“‘]?{_TITLE}", s):
            add("preferences", "reading", m.group(1))
        if m := re.search(r"\bi(?:'m| am) training for (?:a |an |the )?([\w' -]{3,40})", s, re.I):
            add("goals", "training_for", m.group(1))
        if opening and (m := re.match(rf"(?:{_HELLO}[,!.]*\s+)?(?:(?:this is|it'?s) )?{_NAME},? speaking\b", s, re.I)):
            # "hello there, this is Mei speaking" / "hi, Rui speaking"
            if _may_be_name(m.group(1)):
                add("identity", "name", m.group(1))
        if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:just |recently |finally )?(?:moved|relocated)(?: house)? from\s+(?:the )?{PLACE} to\s+(?:the )?{PLACE}", s, re.I):
            found.append(Candidate("location", "city", m.group(1), confidence, origin, kind="end"))
            add("location", "city", m.group(2))
        if m := re.search(rf"\bi (?:grew up|was born(?: and raised)?|was raised) in\s+(?:the )?{PLACE}", s, re.I):
            if not is_when(m.group(1).rstrip(".")):
                add("identity", "hometown", m.group(1))
        for phrasing in _NEW_EMPLOYER:
            # "I joined Takeda as a research pharmacist", "I got a new job at Wise as a senior product designer".
            if (m := phrasing.search(s)) and not is_when(m.group(1)):
                add("work", "employer", m.group(1))
                if m.group(2) and is_job(_clean(m.group(2))):
                    add("work", "job", _clean(m.group(2)))
        if m := re.search(r"\bi (?:speak|am fluent in|'m fluent in|can speak) (?:(?:some|a bit of|a little|basic|fluent|good|decent) )?((?-i:[A-Z][a-z]+)(?:(?:,| and| or)+ (?:(?:some|a bit of|a little|basic|fluent|good|decent|bad|broken) )*(?-i:[A-Z][a-z]+))*)", s, re.I):
            for language in re.findall(r"(?-i:[A-Z][a-z]+)", m.group(1)):
                if language not in _NOT_NAMES:
                    add("identity", "language", language)
        if m := re.search(rf"\bi (?:support|root for|cheer for)\s+(?:the )?{ORG}|\bi(?:'m| am) (?:a )?(?:big |huge |lifelong |die-hard |massive )?(?:supporter|fan) of\s+{ORG}"
                          rf"|\bi(?:'m| am|'ve been| have been|'ve always been| have always been) (?:always )?an? (?:lifelong |life-long |huge |big |massive |die-hard |diehard |proud |long-suffering )?(?!(?:big|huge|massive|lifelong|proud|real|true|total|good|great|loyal)\b){ORG} (?:supporter|fan)\b", s, re.I):
            # "I have been a Leicester City supporter all my life", "I'm a huge Taylor Swift fan"
            team = m.group(1) or m.group(2) or m.group(3)
            if team.split()[0] not in _NOT_NAMES:
                add("preferences", "supports", team)
        if m := re.search(r"\bi (?:drink|take|have|like) my (coffee|tea)\s+((?:with(?:out)? [a-z]+|black|white|strong|weak|sweet|plain|iced|decaf|unsweetened)(?:,? (?:and |with(?:out)? |no )?(?:[a-z]+))?)", s, re.I):
            found.append(Candidate("preferences", m.group(1).lower(), f"{m.group(1).lower()} {m.group(2).lower()}", confidence, origin))
        if m := re.search(rf"\bi (?:also |still |often |regularly |usually )?({'|'.join(PASTIMES)})(?: (in) (?:a|an|the|my|our) ((?-i:(?:[a-z]+ )?(?:choir|band|club|team|orchestra|group|league|crew|quartet|ensemble))))?"
                          r"(?= (?:at night|every|on|in the|at the weekends?|at weekends|after work|before work|most|twice|once|three|four|a lot|regularly)\b|[.,!;]|$)", s, re.I):
            # "I swim at night", "I sing in a church choir every Sunday": a pastime, not "I run a bakery".
            doing = PASTIMES[m.group(1).lower()]
            where = m.group(3) and not re.match(r"(mornings?|evenings?|afternoons?|summers?|winters?|weekends?|week|day|night)\b", m.group(3))
            add("preferences", "hobby", f"{doing} {m.group(2).lower()} {_article(_clean(m.group(3)))}" if where else doing)
        if m := re.search(rf"\bi (?:still |also |now |try to |always )?(?:avoid|stay away from|steer clear of|can'?t (?:eat|have|digest)|cannot (?:eat|have|digest)) ((?:red |processed |fried |spicy )?(?:{FOODS}))\b", s, re.I):
            add("health", "avoids", m.group(1).lower())
        if m := re.search(rf"\b(?:i|we) (?:have|'ve got|have got|got|adopted|rescued|own) (?:two|three|four|five|\d) (?:\w+ )?({PETS})s?,? (?:called |named )?((?-i:[A-Z][\w'-]+)(?:(?:,| and)+ (?-i:[A-Z][\w'-]+))+)", s, re.I):
            for name in _listed_names(m.group(2)):
                add("pets", m.group(1).lower().replace(" ", "_"), name)
        if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:also |just |now )?(?:have|got|adopted|rescued|own) (?:a|an) (?:\w+ )?({'|'.join(BREEDS)}) (?:called|named) {_NAME}", s, re.I):
            # "I've got a corgi named Waffles" (unless the animal itself was named too: "a puppy, a beagle called …").
            if m.group(2)[0].isupper() and not any(c.category == "pets" and c.value == m.group(2) for c in found):
                add("pets", BREEDS[m.group(1).lower()], m.group(2))
        if m := re.search(r"\b(?:i|we) (?:have|'ve got|have got) (?:two|three|four|twin|\d) (?:\w+ )?(boys|girls|sons|daughters|kids|children)(?:,| called| named) "
                          r"((?-i:[A-Z][\w'-]+)(?:(?:,| and)+ (?-i:[A-Z][\w'-]+))+)", s, re.I):
            # "I have twin boys, Kofi and Kwame."
            kind = {"boys": "son", "sons": "son", "girls": "daughter", "daughters": "daughter"}.get(m.group(1).lower(), "child")
            for name in _listed_names(m.group(2)):
                add("people", kind, name)
        if opening and (m := re.match(rf"(?:{_HELLO}[!,.]*\s+)?{_NAME},\s*(\d{{1,2}})\b(?:,\s*(?:an? )?((?-i:[a-z]+(?: [a-z]+){{0,2}}?))(?: (?:in|from|based in) {PLACE})?)?[.!]?$", s, re.I)):
            # "Leo, 27, software dev in Toronto": a terse introduction.
            if _may_be_name(m.group(1)) and (not m.group(3) or is_job(m.group(3))):
                add("identity", "name", m.group(1))
                add("identity", "age", m.group(2))
                if m.group(3) and is_job(m.group(3)):
                    add("work", "job", m.group(3))
                if m.group(4) and not is_when(m.group(4)):
                    add("location", "city", m.group(4))
        elif opening and (m := re.match(rf"(?:{_HELLO}[!,.]*\s+)?((?-i:[a-z][a-z'-]{{1,20}})),\s*(\d{{2}}),\s*(?:an? )?([a-z]+(?: [a-z]+){{0,2}}?)"
                                        rf"(?: (?:at|for|with) (?:an? |the )?[\w&' -]+?)?(?: (?:in|from|based in) {PLACE})?[.!]?$", s, re.I)):
            # "kai, 29, backend dev at a fintech startup in berlin": typed in lower case, a name known by its place
            # in a name, an age and a job (so "nurse, 29, …" or "me, 29, …" is not one)
            name, job = m.group(1), m.group(3).lower()
            if (is_job(job) and not is_job(name) and not re.fullmatch(_HELLO, name, re.I) and 16 <= int(m.group(2)) <= 99
                    and name not in _NOT_INTRODUCED):
                add("identity", "name", name.capitalize())
                add("identity", "age", m.group(2))
                add("work", "job", job)
                if m.group(4) and not is_when(m.group(4)):
                    add("location", "city", m.group(4))
        if m := re.search(rf"\bmy ({RELATIONS}|parents|grandparents|in-laws) (?:both |still |now )?(?:lives?|is living|are living) in\s+(?:the )?{PLACE}", s, re.I):
            # "My mum lives in Leicester": where they live, kept with them, never as the user's own city.
            if not is_when(m.group(2)):
                add("people", _relation(m.group(1)), f"lives in {m.group(2)}")
        if m := re.search(r"\bi(?:'m| am) (not )?(?:really )?(?:a|an) (morning|night|evening|early|people|cat|dog|coffee|tea|beach|city|outdoors|indoor) (?:person|people)\b", s, re.I):
            add("preferences", "trait", f"{'not ' if m.group(1) else ''}a {m.group(2).lower()} person")
        if m := re.match(r"(?:i'?m )?(?:a |such a )?(?:big|huge|massive|lifelong|die-hard|avid) ((?-i:[a-z]+(?: [a-z]+)?)) (?:fan|lover|nerd|geek)\b", s, re.I):
            add("preferences", "likes", m.group(1).lower())
        if m := re.match(r"not (?:a |really a |much of a |a big |a huge )?fan of\s+([\w' -]{3,40})", s, re.I):
            if not re.match(r"(it|that|this|those|these|the idea|your|you|him|her|them)\b", m.group(1), re.I):
                add("preferences", "dislikes", m.group(1).lower())
        if m := re.search(r"\bi(?:'m| am)\b[^.]*?,? (?<!borderline )(?<!pre-)(?<!not )(?<!nearly )(?<!almost )(coeliac|celiac|diabetic|asthmatic|epileptic)\b(?!-)", s, re.I):
            add("health", "condition", m.group(1).lower())
        if m := re.search(rf"\b(?:my )?{FIRST_STINT} as (?:a |an |the )?{JOB_PHRASE}(?= (?:is|was|went|done|over|at|in|and)\b|[.,!;]|$)", s, re.I):
            # "First half term as head of science is done!", "First month as head of English done": the job, said by
            # having done it.
            if is_job(m.group(1).lower()) and not _NOT_YET.search(s):
                add("work", "job", m.group(1))
        terse = s[:1].lower() + s[1:] if s[1:2].islower() else s  # "SRE at Zalando" keeps its capitals
        if m := re.match(rf"({RELATIONS}) {_NAME}(?=[.,!;:]|$| (?!(?:is|was|are|were|has|had)\b)[a-z])", terse):
            # "Wife Iryna, two sons.", "Son Taras study in Kraków.": a relation with its "my" left out (not a title,
            # "Sister Act was on", nor a list of relations, "Mum Dad and I")
            if _may_be_name(m.group(2)) and not re.fullmatch(RELATIONS, m.group(2).split()[0], re.I):
                add("people", _relation(m.group(1)), m.group(2))
        if m := re.match(rf"(?:an? )?((?:[a-z-]+ ){{0,2}}[a-z-]+|{_ACRONYM_JOBS}(?: [a-z-]+)?) (?:at|for|with) {ORG}(?:,\s*{PLACE})?(?:,\s*(?:started|starting|since) [\w ]+)?[.!]?$", terse):
            # "Engineer at Antonov, Kyiv.": a job, its employer and town, said as a label
            if (is_job(m.group(1)) or re.match(_ACRONYM_JOBS, m.group(1))) and not is_when(m.group(2)):
                add("work", "job", m.group(1))
                add("work", "employer", m.group(2))
                if m.group(3) and not is_when(m.group(3)):
                    add("location", "city", m.group(3))
        if m := re.match(rf"(?:(?:got|started) (?:a |my )?)?new job (?:at|with) {ORG}(?:,\s*(?:as )?(?:an? )?((?:[a-z-]+ ){{0,2}}[a-z-]+))?[.!]?$", terse):
            # "New job at PZL Mielec, design engineer."
            if not is_when(m.group(1)):
                add("work", "employer", m.group(1))
                if m.group(2) and is_job(m.group(2)):
                    add("work", "job", m.group(2))
        if m := re.match(r"(vegetarian|vegan|pescatarian)(?: since \w+| for (?:\w+ )?(?:years|months))?(?: now)?[.!]?$", terse):
            add("health", "diet", m.group(1))  # "Vegetarian since 2010."
        if m := re.match(rf"(?:now|currently) (?:living |based )?in {PLACE}(?:,? (?:since|for good|permanently)\b|[.!]?$)", terse):
            if not is_when(m.group(1)):
                add("location", "city", m.group(1))  # "Now in Warsaw, since spring."
        if m := re.match(r"(?:i )?play (?:the )?([a-z]+) (?:in (?:my )?(?:free|spare) time|for fun)\b", terse):
            add("preferences", "hobby", m.group(1))  # "Play accordion in free time."
        if m := re.search(r"\bi (?:also |still )?do ([a-z]+) (?:once|twice|three times|\d+ times|every) ?(?:a |per )?(?:week|day|morning|evening|weekend)", s, re.I):
            if m.group(1).lower() not in ("it", "this", "that", "nothing", "something", "laundry", "shopping", "homework", "overtime", "nights"):
                add("preferences", "hobby", m.group(1).lower())  # "i do pilates twice a week"
        if m := re.search(r"\bi(?:'ve| have)? (?:just |recently |finally )?started ([a-z]+ing) (?:with|at|in) (?:a |the |my )?(?:club|group|class|team|gym)\b", s, re.I):
            if m.group(1).lower() not in _NOT_HOBBIES:
                add("preferences", "hobby", m.group(1).lower())  # "I've started running with a club"
        if m := re.search(rf"\b(?:i|we) (?:just |finally |recently )?(?:bought|rented|found) (?:a |our )?(?:new )?(?:house|flat|place|apartment|home) in {PLACE}", s, re.I):
            if re.search(r"\b(moved in|moving in|settled|live|living)\b", s, re.I) and not is_when(m.group(1)):
                add("location", "city", m.group(1))  # "We bought a house in Hamilton and moved in"
        if m := re.match(r"(\d{2}) (?:years old|yo|y/o)(?=[.,!;]|$| and\b| now\b| btw\b| today\b)", s, re.I):
            # "29 years old and my back already hurts": an age said without "I'm"
            if 16 <= int(m.group(1)) <= 99:
                add("identity", "age", m.group(1))
        if m := re.search(r"\bi (sing|play|perform)(?: (?:the |a |my )?\w+)? (?:in|with) (?:a |an |the |our |my )?(?:local |community |church |gospel |chamber |amateur |youth |works? |male voice |female voice |village |symphony )?(choir|orchestra|band|brass band|quartet)\b", s, re.I):
            # "I sing alto in a community choir": the pastime is singing in the choir (or playing in the band)
            verb = "singing" if m.group(1).lower() == "sing" else "playing"
            if not any(m.group(2).lower() in c.value for c in found if c.category == "preferences"):  # said better above
                add("preferences", "hobby", f"{verb} in a {m.group(2).lower()}")
        if m := re.search(r"\bi (?:also |still )?do ([a-z]+ing|[a-z]+) (?:with|at|in) (?:my|a|the|our) (?:local |running |cycling )?(?:club|team|group|class)\b"
                          r"|^(?:every|each) (?:weekend|week|morning|evening|day|saturday|sunday|monday|tuesday|wednesday|thursday|friday),? i (?:also |still )?do ([a-z]+ing)\b", s, re.I):
            # "Every weekend I do cycling with my club"
            add("preferences", "hobby", (m.group(1) or m.group(2)).lower())
        if m := re.search(r"\bi(?:'ve| have)? (?:just |recently |finally |also )?joined (?:a|an|the|my|our) (?:local |work |office |company |new |village |amateur )?((?-i:[a-z][\w-]+(?: [a-z]+)?)) (team|league|club|choir|band|orchestra)\b", s, re.I):
            # "Joined a five-a-side team at work", "I joined a running club"
            what, kind = m.group(1).lower(), m.group(2).lower()
            if kind in ("team", "league") and (re.search(r"-", what) or what in _TEAM_SPORTS):
                add("preferences", "hobby", what)  # a sports team, not a team at work ("the data team")
            elif kind not in ("team", "league") and what not in ("new", "good", "great", "small", "big", "gym", "fan"):
                add("preferences", "hobby", f"{what} {kind}")
        if m := re.search(rf"\b(?:my|our|the) (?:new |own )?({BUSINESSES}) (?:is|'s) (?:now |finally |officially )?(?:open|opened|up and running|launched)\b[^.!?]*?\b(?:it'?s|it is|is) called ((?-i:[A-Z][\w'.-]*(?: (?:& )?[A-Z][\w'.-]*){{0,3}}))", s, re.I):
            # "The shop is open now, it is called Bram & Jens Fietsen"
            add("work", "business", f"{m.group(1).lower()} {m.group(2)}")
        if m := re.search(rf"\bi(?:'m| am)? (?:currently |now )?(?:studying|study|doing a degree in|doing a masters in|doing a phd in) ((?-i:[a-z]+(?: [a-z]+){{0,2}})) (?:at|in) {ORG}", s, re.I):
            # "studying marine biology at Plymouth" (its "I'm" put back)
            if not is_when(m.group(2)) and m.group(1).lower() not in ("hard", "late", "abroad", "online", "for", "with"):
                add("work", "subject", m.group(1).lower())
                add("work", "school", m.group(2))
        elif m := re.search(rf"\bi(?:'m| am) (?:a |an )(?:first[- ]year |second[- ]year |third[- ]year |final[- ]year |mature |phd |grad |graduate |postgrad |part-time |full-time )?((?-i:[a-z]+ )?)student (?:at|in) {ORG}", s, re.I):
            if not is_when(m.group(2)):
                add("work", "school", m.group(2))  # "I'm a second-year law student at Leeds"
        if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:just |finally )?moved into (?:halls|student halls|a dorm|the dorms|{_DWELLING}) (?:in|near|at) {PLACE}", s, re.I):
            if not is_when(m.group(1)):
                add("location", "city", m.group(1))  # "moved into halls in Plymouth"
        if m := re.search(rf"\b{_NAME} and i (?:are|'re) (?:now |finally |officially )*(?:official|together|dating|a couple|an item|engaged)(?: now)?\b", s, re.I):
            if m.group(1)[0].isupper() and m.group(1) not in _NOT_NAMES:
                add("people", "partner", m.group(1))  # "me and Jake are official now" (read as "Jake and I")
        if m := re.search(r"\bi(?: (?:really )?(?:want|hope|plan)|'d (?:really )?like| would like) to (?:do|get|start|finish|complete) (?:a |an |my )?((?:masters?|master's|phd|doctorate|degree|mba|diploma|apprenticeship|pgce)(?: (?:in|on) (?:[\w-]+ ){0,3}[\w-]+)?)", s, re.I):
            add("goals", "goal", f"do a {re.sub(r' (?:eventually|one day|someday|some day|next year)$', '', m.group(1))}")  # "i wanna do a masters in oceanography"
        if m := re.search(r"\b(?:please |pls |plz )?use (simple|plain|simpler|easy|short|shorter|big|bigger|large) (words|language|sentences|text|letters|print)\b", s, re.I):
            add("style", "wording", f"{m.group(1).lower()} {m.group(2).lower()}")  # "PLEASE USE SHORT SENTENCES"
        if m := re.search(r"\bformat (?:your |the |all |my )?(?:answers|replies|responses) (?:as|in|with) (bullet points|bullets|lists|numbered lists|tables|markdown)", s, re.I):
            add("style", "format", m.group(1).lower())  # "Could you format answers as bullet points?"
        if m := re.match(r"(?:not|no longer) (?:a )?(vegetarian|vegan|pescatarian)(?: any ?more)?\b", s, re.I):
            if re.search(r"\b(no longer|any ?more)\b", s, re.I):
                add("health", "diet", f"no longer {m.group(1).lower()}")  # "not vegan anymore, cheese won", as "I'm no longer vegan"
        if m := re.search(r"\bi (?:just |finally )?got (?:a|the) (?:new |part-time |weekend )?job (?:at|in) (?:the|a) ((?-i:[a-z]+(?: (?!(?:and|but|so|for|with|on|in|at)\b)[a-z]+)?))(?=[.,!;]|$| [a-z])", s, re.I):
            # "got a job at the campus cafe!!"; one not yet begun is a plan ("…, starting in october!!")
            later = re.search(r"\b(?:starting|start|will|going to|next)\b", s, re.I)
            found.append(Candidate("work", "employer", _clean(m.group(1)), confidence, origin, kind="plan" if later else "fact"))
        if re.search(r"\b(?:i|we) (?:have|rent|got|grow [\w ]+? (?:on|at)|work) (?:an|my|our) allotment\b", s, re.I):
            add("preferences", "hobby", "allotment")
        if m := re.search(r"\bi(?:'ve| have)? been (?:headhunted|hired|poached|recruited|taken on|snapped up) by " + ORG, s, re.I):
            # "I've been headhunted by Nuvem Studio; I start in January."
            if not is_when(m.group(1)):
                kind = "plan" if re.search(r"\b(?:i start|starting|i'll start|i will start|from (?:next|january|february|march|april|may|june|july|august|september|october|november|december))\b", text, re.I) else "fact"
                found.append(Candidate("work", "employer", m.group(1), confidence, origin, kind=kind))
        if m := re.search(r"\bmy (?:(?:first|second|new|current) )?(novel|memoir|thesis|dissertation|screenplay|album|podcast)(?:-in-progress| in progress)\b", s, re.I):
            add("projects", "project", m.group(1).lower())  # "In my novel-in-progress the heroine is …"
        if m := re.match(r"(coeliac|celiac|diabetic|asthmatic|epileptic|type [12] diabetic)(?:,? (?:diagnosed|since) [\w ]+)?[.!]?$", s, re.I):
            add("health", "condition", m.group(1).lower())  # an aside: "(coeliac, diagnosed at 25)"
        if m := re.search(r"(?:^|[,;]\s*)(?:just |finally )?turned (\d{2})(?= (?:last|this|yesterday|today|on|and)\b|[.,!;]|$)", s, re.I):
            if 16 <= int(m.group(1)) <= 99:
                add("identity", "age", m.group(1))  # "got it for my birthday, turned 26 last week"
        if m := re.search(r"\bi(?:'m| am) (?:now |currently |also )?(?:training|studying|retraining|learning) (?:to be|to become|as) (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+))(?= now\b|[.,!;]|$| (?:at|in|with|and|but|so)\b)", s, re.I):
            if is_job(m.group(1)) or re.search(r"(sommelier|chef|nurse|doctor|midwife|pilot|barista|vet|yoga teacher)$", m.group(1)):
                add("goals", "goal", f"become {_article(m.group(1))}")  # "I'm training to be a sommelier now"
        if greeted and (m := re.fullmatch(rf"it'?s {_NAME}(?: here)?[.!]*", s, re.I)):
            if _may_be_name(m.group(1)) and as_typed(m.group(1)) and not is_when(m.group(1)):
                add("identity", "name", m.group(1))  # "Coucou! It's Margot."
        if m := re.match(rf"i(?:'m| am) (?:a |an )({_ACRONYM_JOBS})(?: (?:working|based) in {PLACE})?(?=[.,!;]|$| and\b| at\b| in\b)", s, re.I):
            add("work", "job", m.group(1))  # "I'm a GP working in Tromsø" (read from "As a GP working in Tromsø, …?")
            if m.group(2) and not is_when(m.group(2)):
                add("location", "city", m.group(2))
        if m := re.search(rf"\bmy ({_CONDITIONS}|coeliac|celiac|adhd|autism|diabetes) diagnosis\b", s, re.I):
            add("health", "condition", m.group(1).lower())  # "gluten free since my coeliac diagnosis in october"
        if m := re.search(r"\bkeep it (short|brief|concise|simple)\b|\bkeep (?:your |the )?(?:answers|replies|responses|it) (upbeat|positive|friendly|formal|casual|light|professional|gentle|honest|blunt|warm)\b", s, re.I):
            if m.group(1):
                add("style", "reply_length", m.group(1).lower())  # "keep it brief pls"
            else:
                add("style", "tone", m.group(2).lower())  # "keep answers upbeat!"
        if m := re.search(r"\bi (?:now |still |currently )?work in ((?-i:[a-z]+(?: [a-z]+)?))(?=[.,!;]|$| (?:at|for|and|but|so)\b)", s, re.I):
            # "I work in logistics": the field one works in (not "in a shop", "in the city", "in London")
            if m.group(1).split()[0] not in ("a", "an", "the", "my", "our", "this", "that", "retail,", "shifts", "town", "there", "here"):
                add("work", "field", m.group(1).lower())
        if m := re.match(rf"(?:now|currently) (?:at|with) {ORG} as (?:a|an|the) ((?-i:(?:[a-z-]+ ){{0,2}}[a-z-]+))(?=[.,!;]|$| now\b)", terse):
            if not is_when(m.group(1)):
                add("work", "employer", m.group(1))  # "now at InPost as a team lead"
                add("work", "job", m.group(2))
        if m := re.search(rf"(?:^|\bi'?m |\bi am )(?:slowly )?cutting out ({FOODS})\b", s, re.I):
            add("health", "avoids", m.group(1).lower())  # "Cutting out sugar is working."
        if m := (re.match(rf"(?:(?:actually|sorry|oops|correction|my bad|typo|no no|no)[,:!]?\s+)+(?:i meant |i said |it'?s |it is |i live in |i'm in |i am in )?{PLACE},? not {PLACE}\b", s, re.I)
                  or re.search(rf"\bi meant {PLACE},? not {PLACE}\b", s, re.I)):
            # "Actually sorry, Bristol not Brighton, autocorrect hates me": whatever held Brighton now holds Bristol
            if not is_when(m.group(1)) and m.group(1) != m.group(2):
                found.append(Candidate("other", "correction", m.group(1), confidence, origin, kind="correct", replaces=m.group(2)))
        if m := re.match(r"(?:and |but |so )?at (\d{2}),? (?:i|i'm|i've|i'd|my)\b", s, re.I):
            # "At 38 I finally have a hobby that isn't marking."
            if 16 <= int(m.group(1)) <= 99:
                add("identity", "age", m.group(1))
        if m := re.search(rf"\bsign(?: (?:it|this|them|the (?:email|letter|card|note|message)))?(?: off)? (?:from|as|with)\s+{_NAME}", s, re.I):
            # "Sign it from Tomás Ferreira, flat 3B.": who writes is the user
            if _may_be_name(m.group(1)) and not re.fullmatch(RELATIONS, m.group(1).split()[0], re.I):
                add("identity", "name", m.group(1))
        if m := re.search(rf"\bi(?:'ve| have)? (?:just |recently |finally |also )?(?:started|began|got into|have got into|'ve got into) ((?:(?:sea|open[- ]water|wild|indoor|outdoor|trail|road|mountain|rock|ice|cold[- ]water|cross[- ]country|downhill|alpine|backcountry|nordic) )?(?:{PASTIME_GERUNDS}))\b", s, re.I):
            add("preferences", "hobby", m.group(1).lower())  # "I started surfing in March and I'm hooked"
        if m := re.search(r"\b(?:i )?(?:went to|had|did|tried|loved|survived) my (?:very )?first (?:(?:weekly|weekend|evening|local|online|beginners?'?) )*((?-i:[a-z]+(?: [a-z]+)?)) (?:class|lesson|session|workshop)\b"
                          r"|\bi(?:'ve| have)? (?:just |recently |finally )?(?:signed up for|joined|started|enrolled (?:in|on)) (?:a |an |some |this |that |the )?(?:(?:new|weekly|weekend|evening|local|online|little|free|beginners?'?|morning) )*((?-i:[a-z]+(?: [a-z]+)?)) (?:classes|class|lessons|course)\b", s, re.I):
            # "Went to my first pottery class on Saturday and I'm obsessed", "I've joined a salsa class"
            what = m.group(1) or m.group(2)
            if not re.match(r"(new|online|evening|night|weekly|free|local|business|economy|first|cooking and|driving|antenatal|parenting|maths?|english|history)\b", what):
                add("preferences", "hobby", what)
        if m := re.search(rf"\b(?:doctor|gp|consultant|specialist|tests?|results?|scans?|biopsy|bloods)\b(?: has| have| just| finally)* (?:confirmed|showed|found)(?: that)? (?:it'?s|it is|it was|i have|i've got) ({_CONDITIONS})\b", s, re.I):
            add("health", "condition", m.group(1).lower())  # "Doctor confirmed it's coeliac disease"
        if m := re.search(r"\bi(?:'m| am) (?:much |far |definitely |totally |very much |more of |much more of |100% )*(?:a|an) (cat|dog) (?:person|lady|guy|man|woman)\b", s, re.I):
            if not any(c.attribute == "trait" for c in found):
                add("preferences", "trait", f"a {m.group(1).lower()} person")  # "I'm more of a cat person, honestly"
        if m := re.search(r"(?<![Ii] )\b(?:reply|answer|respond|write(?: to me)?|talk to me)(?: to me| me)? in ((?-i:French|Spanish|German|Italian|Portuguese|Dutch|Polish|Swedish|Norwegian|Danish|Finnish|Greek|Turkish|Arabic|Hindi|Japanese|Chinese|Korean|Ukrainian|Russian|Welsh|Irish|Catalan))\b(?! (?:food|class|lessons?|style|toast|fries)\b)", s, re.I):
            add("style", "language", m.group(1))  # "Please answer in French from now on"
        if m := re.search(r"(?<![Ii] )\b(?:reply|answer|respond|write(?: to me)?|talk to me)(?: to me| me)? in (british|american|australian|canadian|plain|simple|us|uk) (english|spelling)\b"
                          r"|\buse (british|american|australian|us|uk) (english|spelling)\b", s, re.I):
            variety = (m.group(1) or m.group(3)).lower()
            kind = (m.group(2) or m.group(4)).lower()
            add("style", "language", f"{variety.upper() if variety in ('us', 'uk') else variety.capitalize()} {'English' if kind == 'english' else kind}")
        if m := re.match(r"(?:please |pls |and )?(short|brief|concise|shorter|long|detailed|longer) (?:answers|replies|responses)(?: please| pls| only| from now on)?(?:[.!,]|$)", s, re.I):
            add("style", "reply_length", m.group(1).lower())  # "Short answers please, I read these in the car park."
        if m := re.search(r"\b(?:explain|show|teach|answer)(?: me)?(?: things| stuff| it| everything)? (?:with|using) (code examples|code samples|examples|code|diagrams|analogies)\b", s, re.I):
            if re.search(r"\b(please|pls|always|from now on|i learn|i prefer|better that way)\b", s, re.I):
                add("style", "format", m.group(1).lower())  # "Explain things with code examples please"
        if m := re.search(r"\b(?:keep|make) (?:your |the |all |my )?(?:answers|replies|responses|messages) (?:under|below|within|to|less than|shorter than) (\d+ (?:words|lines|sentences)|a paragraph|one paragraph|a few (?:lines|sentences)|a couple of (?:lines|sentences)|(?:one|two|three) (?:lines|sentences))", s, re.I):
            length = m.group(1).lower()
            add("style", "reply_length", f"under {length}" if length[0].isdigit() else length)  # "keep your replies to a few sentences"  # "Pls keep replies under 100 words."
        if m := re.search(r"\bi(?: (?:really )?(?:want|would like|hope)|'d (?:really )?like) to (publish|write|build|open|finish|complete|climb|qualify as|compete in) ((?:my own |a |an |the )?[\w' -]{3,50})", s, re.I):
            # "I want to publish my own cookbook one day"
            if not re.match(r"(it|that|this|something|anything|more|down|back|up|out)\b", m.group(2), re.I):
                what = _clean(re.sub(r" (?:one day|someday|some day|eventually|in the future)\b.*$", "", m.group(2), flags=re.I))
                add("goals", "goal", f"{m.group(1).lower()} {what}")
        if m := re.match(rf"{_NAME} (?i:and i (?:celebrated|had|marked)|(?:surprised|spoiled|spoilt|took|treated) me)\b[^.!?]*\b(?i:our (?:\w+ )?(?:wedding )?anniversary)\b", s):
            # "Chidi surprised me with tickets … for our anniversary!": who shares the anniversary is the partner
            if _may_be_name(m.group(1)) and " " not in m.group(1) and not is_common(m.group(1).lower()):
                add("people", "partner", m.group(1))

    introduced = INTRO_LIST.search(text)  # "About me:\n- Hana Sato, 31\n- …": the first item opens like a message
    for first, said in enumerate(usable_sentences(text)):
        index = first
        greeted = _greeted(text, said)
        whole = _with_subject(said)
        opening = first == 0 or (first == 1 and greeted) or (introduced is not None and said == introduced.group(1).strip())
        scan(whole, opening, greeted)
        if (plain := _plain(whole)) != whole:
            scan(plain, opening, greeted)  # "I've cut out sugar" read also as "I cut out sugar"
        base = len(found)
        mine = re.match(rf"(?:{_OPENERS}[,:!]?\s+)*(?:i|i'm|i've|i'd|we|we're|we've)\b", whole, re.I)
        for clause in clauses(said):
            part = _with_subject(clause)
            if part != clause and not mine:
                continue  # "Giulia graduated and moved to Milan": the clause's missing subject is Giulia, not "I"
            if part != whole:
                scan(part, False, False)
        # A clause adds what the whole sentence missed; it does not overrule it on a one-value slot ("I'm no
        # longer vegetarian, I eat meat again" is "eats meat", not the first clause's "no longer vegetarian").
        filled = {slot for c in found[:base] if c.kind == "fact" and is_single_valued(c.category, c.attribute) for slot in slot_of(c.category, c.attribute)}
        found[base:] = [c for c in found[base:] if c.kind != "fact" or (c.category, c.attribute) not in filled]
    for goal in listed_goals(text):
        add("goals", "goal", goal)
    if m := SIGNED.search(text):
        # A letter signed with a name: "Dear assistant, … Kind regards,\nIngrid"
        if _may_be_name(m.group(1)) and as_typed(m.group(1)) and not re.fullmatch(RELATIONS, m.group(1), re.I) and m.group(1) not in ("Me", "Us", "All"):
            add("identity", "name", m.group(1))
    usable = " ".join(usable_sentences(text))
    if re.search(r"\b(?:kids|children|boys|girls|sons|daughters|twins|little ones)\b", usable, re.I):
        # "Three kids under seven. Cian is six, Niamh is four and baby Rory is ten months."
        for m in re.finditer(rf"(?:^|[.,;:!]\s+|\band (?:baby )?|\bbaby ){_NAME} is (?:only |just |nearly |almost )?(?:\d{{1,2}}|{_SMALL_NUMBERS})"
                             r"(?: (?:years? old|months?(?: old)?|weeks? old|and a half))?(?=[.,!;]|$| and\b)", usable):
            if _may_be_name(m.group(1)) and " " not in m.group(1) and as_typed(m.group(1)) and not is_when(m.group(1)):
                add("people", "child", m.group(1))
    # A pet named in the sentence after its adoption: "I adopted a cat today! I named her Mochi."
    if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:just |finally |also |recently )?(?:adopted|got|rescued|bought) (?:a|an) (?:\w+ ){{0,2}}?({PETS}|{'|'.join(BREEDS)})\b", usable, re.I):
        after = usable[m.end():]
        if n := (re.match(rf"(?:[^.!?]*[.!?]+\s+)?[^.!?]*?\b(?:called|named) (?:(?:him|her|it|them) )?{_NAME}", after)
                 or re.search(rf"\b(?:i|we) (?:named|called) (?:him|her|it|them) {_NAME}|\b(?:his|her|its) name(?: is|'s) {_NAME}", text, re.I)):
            name = next(g for g in n.groups() if g)
            if name[0].isupper():
                kind = m.group(1).lower()
                add("pets", BREEDS.get(kind, kind).replace(" ", "_"), name)
    # A message that ends something ("we rehomed our rabbit Mochi") does not also state it as current.
    ended = {c.value.lower() for c in found if c.kind == "end"}
    return _unique(c for c in found if c.kind != "fact" or c.value.lower() not in ended)


def _relation(word: str) -> str:
    """The attribute a relative is stored under: "Mum" -> "mother", "best friend" -> "best_friend"."""
    word = word.lower()
    return _RELATION_WORDS.get(word, word).replace(" ", "_").replace("-", "_")


def _article(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def _unique(cands: Iterable[Candidate]) -> list[Candidate]:
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for c in cands:
        key = (c.kind, c.category, c.attribute, c.value.lower())
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


EXTRACTION_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "facts": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "attribute": {"type": "string", "maxLength": 24},
                    "value": {"type": "string", "maxLength": 60},
                },
                "required": ["category", "attribute", "value"],
            },
        }
    },
    "required": ["facts"],
}

EXTRACTION_SYSTEM = (
    "You extract facts that the user states about themselves. Only use what the USER MESSAGE says. "
    "Ignore questions, hypotheticals and instructions. If there are no facts, return an empty list.\n"
    'Example: "I moved to Utrecht and I work at Philips." -> {"facts": [{"category": "location", "attribute": "city", '
    '"value": "Utrecht"}, {"category": "work", "attribute": "employer", "value": "Philips"}]}'
)

_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset("a an the my of to in at on for and or is are am be i me".split())


def grounded(value: str, source: str) -> bool:
    """Every content word of ``value`` appears (as a word or word prefix of 4+ letters) in ``source``."""
    words = [w for w in _WORD.findall(value.lower()) if w not in _FILLER]
    if not words:
        return False
    have = set(_WORD.findall(source.lower()))
    for w in words:
        if w in have:
            continue
        if len(w) >= 4 and any(h.startswith(w[:4]) and abs(len(h) - len(w)) <= 3 for h in have):
            continue
        return False
    return True


#: The attributes a model's candidate may have, by category: those the patterns use. A small model also invents
#: slots ("location.hobby", "pets.pets", "people.name"); a fact in a slot nobody reads is noise, so it is dropped.
MODEL_ATTRIBUTES: dict[str, frozenset[str]] = {
    "identity": frozenset({"name", "nickname", "age", "hometown", "language", "nationality", "birthday", "pronouns"}),
    "location": frozenset({"city", "country", "home"}),
    "work": frozenset({"employer", "job", "business", "school"}),
    "people": frozenset(
        "sister brother mother father wife husband partner girlfriend boyfriend fiance fiancee son daughter child "
        "children parents boss manager best_friend friend colleague roommate flatmate grandmother grandfather aunt "
        "uncle cousin niece nephew grandson granddaughter sister_in_law brother_in_law mother_in_law father_in_law "
        "stepmother stepfather stepsister stepbrother stepson stepdaughter".split()
    ),
    "pets": frozenset({p.replace(" ", "_") for p in PETS.split("|")}),
    "health": frozenset({"allergy", "diet", "avoids", "condition", "intolerance"}),
    "preferences": frozenset({"likes", "dislikes", "hobby", "learning", "reading", "supports", "trait"}),
    "goals": frozenset({"goal", "training_for"}),
    "projects": frozenset({"project", "business"}),
    "style": frozenset({"format", "reply_length", "language", "tone"}),
}
#: Words of doubt or of a time to come: such a sentence is a plan or a wish, which the model would state as a fact.
_NOT_YET = re.compile(
    r"\b(maybe|perhaps|might|probably|possibly|someday|one day|thinking (?:about|of)|considering|wondering|hoping|planning|"
    r"going to|gonna|will|'ll|next (?:week|month|year)|tomorrow|soon|getting)\b",
    re.I,
)


def _plausible(category: str, attribute: str, value: str, usable: str) -> bool:
    """Whether a model's candidate names a slot the profile uses and, for a name, one written as a name."""
    if attribute not in MODEL_ATTRIBUTES.get(category, frozenset()) and not (category == "preferences" and attribute.startswith("favourite_")):
        return False
    if (category, attribute) in (("identity", "name"), ("identity", "nickname")) or category in ("people", "pets"):
        return value[:1].isupper() and re.search(rf"(?<!\w){re.escape(value.split()[0])}(?!\w)", usable) is not None
    return True


def model_input(text: str) -> str:
    """What the model reads of a message: its usable sentences less those of doubt or plans (the patterns keep
    plans as plans; a model would state them as facts)."""
    return " ".join(s for s in usable_sentences(text) if not _NOT_YET.search(s))


def model_candidates(
    engine: ChatEngine, text: str, *, cancel: threading.Event | None = None, max_tokens: int = 160
) -> list[Candidate]:
    """Candidates from the model (schema-constrained), kept only if grounded in what it read (``model_input``) and
    in a slot the profile uses."""
    usable = model_input(text)
    if not usable:
        return []
    messages = [
        {"role": "system", "content": EXTRACTION_SYSTEM},
        {"role": "user", "content": f"USER MESSAGE: {usable[:2000]}"},
    ]
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0, json_schema=EXTRACTION_SCHEMA)
    raw = "".join(engine.stream(messages, params, cancel))  # type: ignore[arg-type]
    if cancel is not None and cancel.is_set():
        return []
    try:
        data = json.loads(raw)
    except ValueError:
        return []  # cut off by max_tokens; the grammar guarantees shape, not length
    out = []
    for item in data.get("facts", []):
        value = str(item.get("value", "")).strip()
        category, attribute = str(item.get("category", "other")), slug(str(item.get("attribute", "note")))
        if value and grounded(value, usable) and _plausible(category, attribute, value, usable):
            out.append(Candidate(category, attribute, value, 0.5, "extracted"))
    return _unique(out)


_REMEMBER = re.compile(r"^\s*(?:please\s+)?(?:/remember|remember)\s*(?:that\s+|:\s*)?(.+)$", re.I | re.S)
_FORGET = re.compile(r"^\s*(?:please\s+)?(?:/forget|forget)\s*(?:that\s+|about\s+|:\s*)?(.+)$", re.I | re.S)


def explicit_request(text: str) -> tuple[str, str] | None:
    """``("remember", what)`` or ``("forget", what)`` when the message is an explicit memory request."""
    if m := _REMEMBER.match(text):
        if not m.group(1).strip().endswith("?"):
            return "remember", m.group(1).strip()
    if m := _FORGET.match(text):
        what = m.group(1).strip()
        if not INSTRUCTION.search(text) and not what.endswith("?"):
            return "forget", what
    return None


def explicit_candidates(what: str) -> list[Candidate]:
    """What to store for "remember that …": the facts the patterns see, or the sentence itself as a note."""
    cands = rule_candidates(what, origin="explicit", confidence=1.0)
    if cands:
        return cands
    text = what.strip().rstrip(".")
    if not text or INSTRUCTION.search(text):
        return []
    return [Candidate("other", "note", text, 1.0, "explicit", statement=text)]
