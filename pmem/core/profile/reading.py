"""How a message is read before the patterns look for facts in it.

A message becomes sentences (a line break, a list item and a full stop end one; an initial or a title does not) and
a sentence becomes clauses. What is not the user's own statement is left out: questions, hypotheticals, role-play,
sarcasm, instructions to the model, quoted speech and what follows "she said …"; a message that asks not to be
remembered yields nothing. Some forms are read as what they say: an aside in parentheses is a sentence of its own,
a style request asked as a question is an instruction, and what a question tells about the one asking ("im a
nurse in Leeds, any tips …?") is a statement. Lists headed as goals and a letter's signature are found here too.
"""

from __future__ import annotations

import re

from pmem.core.profile.vocab import PETS, RELATIONS

PRIVATE = re.compile(
    r"\b(don'?t|do not|never) (remember|save|store|record|memori[sz]e)\b|\boff the record\b|\bkeep (this|that|it) (private|between us|out of (your )?memory)\b",
    re.I,
)
HYPOTHETICAL = re.compile(
    r"^\s*(if|suppose|supposing|imagine|what if|let'?s say|pretend|hypothetically|in a story|write a story|as a character)\b"
    r"|\b(pretend|hypothetically|imagine that|role-?play|in (?:this|the|my|a|your) story|my character|as if|as though|if i were|i wish)\b",
    re.I,
)
#: A sentence that says the opposite of what it means: "Oh I just LOVE getting up at 5am, said no one ever."
_SARCASM = re.compile(r"\bsaid no(?: ?one| ?body)(?: ever)?\b|\byeah,? right\b|\s/s\s*$|\bnot!\s*$", re.I)
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget) (all |any |the )?(previous|prior|above|earlier) (instructions|messages|rules)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bnew instructions\b|\breveal\b.*\b(prompt|secret|password)",
    re.I,
)


#: A full stop that does not end a sentence: an initial ("Ursula K. Le Guin") or a title ("Dr. Mori").
_NO_BREAK = re.compile(r"(?:(?<![\w'])(?-i:[A-HJ-Z])|\b(?:Dr|Mr|Mrs|Ms|Mx|Mt|St|Prof|Jr|Sr|vs))\.$", re.I)


#: The marker of a list item: "- ", "* ", "• ", "1) ", "2. " at the start of a line, or "2) " inside one ("Goals: 1)
#: run a 5k 2) pass N3").
_MARKER = r"(?:[-*\u2022\u2013]|\d{1,2}[.)])"
_BULLET = re.compile(rf"^\s*{_MARKER}\s+")
_INLINE_ITEM = re.compile(r"(?:^|(?<=\s))\d{1,2}\)\s+")


#: A list of facts about the user, whose first item is read as a message's first sentence ("Hana Sato, 31").
INTRO_LIST = re.compile(rf"\b(?:about me|about myself|quick intro|intro|introduction|me in (?:brief|short|a nutshell))\b[^\n]*:[ \t]*\n\s*{_MARKER}\s+([^\n]+)", re.I)
#: The heading of a list of goals: "Goals for spring: 1) … 2) …", "My resolutions for 2025:" and lines of items.
_GOALS_HEADING = re.compile(r"^\s*(?:(?:my|our) )?(?:new year'?s? )?(?:goals?|resolutions?|targets?|aims?)(?: (?:for|this|in|of) [\w' ]{1,30})?\s*:\s*(.*)$", re.I)


#: The signature of a message written as a letter: a closing ("Best regards,", "Cheers,") and a name on the last line.
SIGNED = re.compile(
    r"(?:^|\n)[ \t]*(?:(?:best|kind|warm|warmest|many)(?: regards| wishes| thanks)?|regards|cheers|thanks|thank you|all the best|best wishes|sincerely|"
    r"yours(?: sincerely| truly)?|love|take care)[,.!]?[ \t]*(?:\n[ \t]*|[ \t]+)((?-i:[A-Z][\w'-]+(?: [A-Z][\w'-]+)?))[ \t.!]*$",
    re.I,
)


def listed_goals(text: str) -> list[str]:
    """The items of a list headed as goals, inline ("Goals: 1) run a 5k 2) pass N3") or one per line below the
    heading; questions and hypotheticals among them are not goals."""
    lines = text.split("\n")
    goals: list[str] = []
    for i, line in enumerate(lines):
        if not (m := _GOALS_HEADING.match(line)):
            continue
        rest = m.group(1).strip()
        items = _INLINE_ITEM.split(rest) if len(_INLINE_ITEM.findall(rest)) >= 2 else [rest] if rest else []
        for below in lines[i + 1 :]:
            if not _BULLET.match(below):
                break
            items.append(_BULLET.sub("", below))
        for item in items:
            item = item.strip(" .,;:!")
            if " " in item and len(item) <= 60 and not item.endswith("?") and not HYPOTHETICAL.search(item):
                goals.append(item)
    return goals


def sentences(text: str) -> list[str]:
    """The sentences of a message; a line break always ends one, an initial or a title never does; each item of a
    list is a sentence of its own, without its marker."""
    out: list[str] = []
    for line in re.split(r"\n+", text):
        line = _BULLET.sub("", line)
        items = _INLINE_ITEM.split(line) if len(_INLINE_ITEM.findall(line)) >= 2 else [line]
        for piece in (piece for item in items for piece in [*re.split(r"(?<=[.!?])\s+", item), ""]):
            if not piece:
                out.append("")  # an item of a list ends a sentence
            elif out and out[-1] and _NO_BREAK.search(out[-1]) and piece[:1].isupper():
                out[-1] = f"{out[-1]} {piece}"
            else:
                out.append(piece)
        out.append("")  # a line break always ends a sentence
    return [s.strip() for s in out if s.strip()]


#: Where one sentence holds several statements: "I quit Foster and joined Siza", "Helena left, my new boss is
#: Duarte", "I finished Sapiens, now I'm reading Dune". A new clause starts at a comma, a semicolon, a dash or a
#: conjunction followed by a subject of its own or by a verb whose "I" was left out.
_CLAUSE_BREAK = re.compile(
    r"\s*(?:[;,]|\s[-\u2013\u2014]+)\s+(?=(?:(?:and|but|so|then|now|still|also|though|although|yet)\s+)*(?:i|i'm|i've|i'd|i'll|my|we|we're|we've|our|now)\b)"
    r"|\s*(?:[;,]|\s[-\u2013\u2014]+)?\s+(?=(?:and|but|so|then)\s+(?:(?:now|still|also)\s+)*(?:i|i'm|i've|i'd|i'll|my|we|we're|we've|our)\b)"
    r"|\s*,?\s+(?=and (?:then )?(?:left|quit|moved|relocated|started|joined|adopted|sold|switched|got|became|took|finished)\b)",
    re.I,
)
_LEADING = re.compile(r"^(?:(?:and|but|so|then|now|still|also|though|although|yet)\s+)+(?=(?:i|i'm|i've|i'd|i'll|my|we|we're|we've|our)\b)", re.I)


def clauses(sentence: str) -> list[str]:
    """The clauses of a sentence that holds more than one (see ``_CLAUSE_BREAK``); empty when it holds one."""
    parts = [p.strip(" ,;") for p in _CLAUSE_BREAK.split(sentence)]
    parts = [_LEADING.sub("", p) for p in parts if p]
    if len(parts) < 2 or any(" " not in p.strip() for p in parts):
        return []  # "Erik and I got engaged": one subject, not two clauses
    return parts


#: Someone else's words or opinion about the user: what follows is not the user's own statement.
_REPORTED = re.compile(
    r"(?<![Ii] )\b(?:said|says|told me|tells me|thinks|think|thought|believes|reckons|claims|wants me to|wanted me to|"
    r"asked me to|keeps telling me)\b.*$",
    re.I,
)
#: A diagnosis the user reports: "My GP has told me I have type 2 diabetes", "the tests showed my iron is low". What
#: follows is the user's own health, not someone's opinion, so the teller is dropped and the rest is read.
_DIAGNOSED = re.compile(
    r"^(?:(?:so|and|well|turns out)[,]?\s+)?(?:(?:my|the|a) )?(?:new )?(?:doctor|gp|consultant|specialist|cardiologist|dermatologist|neurologist|"
    r"allergist|dentist|optician|tests?|scans?|results?|blood tests?|bloods|check-?up)(?: results?)? (?:has |have |just |finally )*"
    r"(?:said|says|say|told me|tells me|confirmed|showed|show|found|diagnosed)(?: that)?\s+(?=(?:i have|i've got|i'm|i am|my (?:blood|cholesterol|iron|sugar|vitamin|thyroid))\b)",
    re.I,
)
#: A person or pet the user names as theirs ("our cat Mochi", "my sister Ana"), kept from reported speech.
_POSSESSED = re.compile(rf"\b(?:my|our) (?:[a-z-]+ )?(?:{PETS}|{RELATIONS}),? (?-i:[A-Z][\w'-]+)", re.I)
#: Quoted words with a first person in them ("'I'm a doctor,' he joked"): somebody's speech, not a statement.
_QUOTED = re.compile(r"\"[^\"]*\b(?:I|I'm|my|me)\b[^\"]*\"|“[^”]*\b(?:I|I'm|my|me)\b[^”]*”")


#: A request about how to answer, asked as a question: read as the instruction it is.
_STYLE_REQUEST = re.compile(r"^(?:could|can|would|will) you (?:please |kindly )?(?:always |from now on )?((?:format|keep|make|write|use|answer|reply|respond|explain)\b)", re.I)
#: An aside in parentheses, or a name set off by dashes after a relation ("my partner — Tiago, for the record —").
_ASIDE = re.compile(rf"\s*\(([^()]{{1,80}})\)|\b((?:my|our) (?:{RELATIONS})) [\u2014\u2013-]+ ((?-i:[A-Z][\w'-]+)),?[^\u2014\u2013]{{0,40}}[\u2014\u2013]", re.I)


#: Where a question begins after what the user tells first: "im a uber driver in Accra, whats the best way …?"
_ASKING = re.compile(
    r"(?:,|;|\s[\u2014\u2013-]+)\s+(?=(?:so |and |but )?(?:what|whats|what's|how|which|where|when|why|who|is|are|can|could|should|would|do|does|did|"
    r"will|any|anyone|is it|it's|any tips|any ideas|thoughts|recommendations)\b)",
    re.I,
)
#: How a question may open with who asks it: "As a Chelsea fan is it normal …", "As someone with hypothyroidism, …".
_AS_ASKER = re.compile(r"^as (?:an? |someone |somebody )((?:with |who has )?[\w' -]{2,40}?)(?:,| (?=(?:is|are|should|can|could|do|does|would|what|how|which|when|where)\b))", re.I)


def _told_before_asking(question: str) -> str:
    """What a question tells about the one asking before it asks: the statement before the question ("im a uber
    driver in Accra, whats the best way …?" -> "im a uber driver in Accra"), or who asks it ("As a Chelsea fan is it
    normal …?" -> "I'm a Chelsea fan"; "As someone with hypothyroidism, should I …?" -> "I have hypothyroidism").
    Only first-person statements; a question alone tells nothing."""
    if m := _AS_ASKER.match(question):
        who = m.group(1).strip()
        return f"I have {who.split(' ', 1)[1]}." if re.match(r"(?:with|who has) ", who) else f"I'm {question[3:m.start(1)].strip()} {who}."
    parts = _ASKING.split(question, maxsplit=1)
    if len(parts) == 2 and re.search(r"\b(?:i|i'm|im|i've|my|we|we're|our)\b", parts[0], re.I) and len(parts[0].split()) >= 3:
        return parts[0].strip(" ,;")
    return ""


def _without_asides(text: str) -> str:
    """The message with each aside in parentheses moved to a line of its own at the end ("a landscape architect
    (mostly public parks) based in Lisbon" is read without it, "(coeliac, diagnosed at 25)" on its own), and "my
    partner — Tiago, for the record — teaches" read as "my partner Tiago teaches"."""
    asides: list[str] = []

    def put(m: re.Match[str]) -> str:
        if m.group(2):
            return f"{m.group(2)} {m.group(3)}"
        asides.append(m.group(1))
        return ""

    return "\n".join([_ASIDE.sub(put, text), *asides])


#: Pictographs and the joiners between them ("🏊‍♀️"), read as the break between two thoughts they usually are.
_EMOJI = re.compile(r"[ \t]*[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+[ \t]*")
#: Tags at the end of a line ("… midwife in Brighton #nightshift #nhs"), and a diary's "Day 12:" before a sentence.
_HASHTAGS = re.compile(r"(?:[ \t]+#\w+)+[ \t]*$", re.M)
_JOINING = frozenset("and or but with in at on for of to than".split())
_DIARY_DAY = re.compile(r"(?:^|(?<=[.!?]\s)|(?<=\n))day \d{1,4}\s*[:.\u2013\u2014-]\s*", re.I)


def tidied(text: str) -> str:
    """The message without what carries no words: trailing hashtags, a diary's "Day 12:", and emoji, which part two
    phrases where words follow them ("new here 👋 tamsin, 32, midwife" -> "new here, tamsin, 32, midwife")."""
    text = _DIARY_DAY.sub("", _HASHTAGS.sub("", text))
    def mark(m: re.Match[str]) -> str:
        follows = re.match(r"\w+", text[m.end():])
        breaks = follows and follows.group(0).lower() not in _JOINING and m.start() > 0 and text[m.start() - 1] not in ".!?"
        return ", " if breaks else " "

    return _EMOJI.sub(mark, text).strip()


def usable_sentences(text: str) -> list[str]:
    """The sentences facts may come from: not questions, hypotheticals, role-play or instructions; quoted speech
    and what follows "she said…" / "my mum thinks…" are cut away.

    A message that asks not to be remembered, or that tries to instruct the model ("ignore previous
    instructions…"), yields nothing at all: its other sentences are not trusted either."""
    if PRIVATE.search(text) or INSTRUCTION.search(text):
        return []
    out = []
    for s in sentences(_without_asides(_QUOTED.sub(" ", text))):
        if (request := _STYLE_REQUEST.match(s)) and s.endswith("?"):
            s = f"Please {request.group(1)}{s[request.end():-1]}."  # "Could you format answers as bullet points?"
        elif (s.endswith("?") or ((asker := _AS_ASKER.match(s)) and not asker.group(0).endswith(","))) and not HYPOTHETICAL.search(s) and (said := _told_before_asking(s)):
            out.append(said)  # "im a uber driver in Accra, whats the best way to save on fuel?"
            if not s.endswith("?"):
                continue  # "as a Chelsea fan is it normal to feel this much pain lol": a question without its mark
        if s.endswith("?") or HYPOTHETICAL.search(s) or INSTRUCTION.search(s) or _SARCASM.search(s):
            continue
        s = _DIAGNOSED.sub("", s)
        if reported := _REPORTED.search(s):
            s = s[: reported.start()].strip()
            # Someone's claim is cut away, but whom the user names as theirs stays theirs: "Erik's mum is a vet, she
            # says our cat Mochi is overweight" still says the cat is ours.
            out.extend(m.group(0) for m in _POSSESSED.finditer(reported.group(0)))
        if s:
            out.append(s)
    return out
