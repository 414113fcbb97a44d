"""How the user wants to be answered: length, format, wording, language and tone."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet

rules = RuleSet()


@rules.search(
    "style.format/prefer",
    (
        r"\b(?:i )?prefer (?:(?:answers|replies|responses|explanations) with )?(bullet points|bullets|lists|numbered lists"
        r"|tables|code examples|code|examples|step-by-step)"
        r"|\b(?:use|give me) (bullet points|lists|tables)\b"
    ),
    examples=["Prefer bullet points over long paragraphs when you explain stuff, please."],
    counterexamples=["My boss prefers tables."],
)
def _style_format_prefer(m: re.Match[str], r: Reading) -> None:
    r.add("style", "format", next(g for g in m.groups() if g).lower())


@rules.search(
    "style.reply_length/prefer",
    (
        r"\bi prefer (short|brief|concise|long|detailed|longer|shorter) (?:answers|replies|responses)"
        r"|\b(?:keep|make) (?:your |the |all )?(?:answers|replies|responses) (short|brief|concise|long|longer|detailed|shorter)"
        r"|\b(?:reply|answer|respond) (?:in )?(more detail|less detail|briefly|concisely|at length)"
    ),
    examples=["I prefer short answers, by the way."],
    counterexamples=["She prefers short answers, by the way."],
)
def _style_reply_length_prefer(m: re.Match[str], r: Reading) -> None:
    value = next(g for g in m.groups() if g).lower()
    r.add("style", "reply_length", {"more detail": "detailed", "at length": "long", "less detail": "short", "briefly": "short", "concisely": "concise"}.get(value, value))


@rules.search(
    "style.wording/use",
    r"\b(?:please |pls |plz )?use (simple|plain|simpler|easy|short|shorter|big|bigger|large) (words|language|sentences|text|letters|print)\b",
    examples=["PLEASE USE SHORT SENTENCES"],
    counterexamples=["Please use the big door."],
)
def _style_wording_use(m: re.Match[str], r: Reading) -> None:
    r.add("style", "wording", f"{m.group(1).lower()} {m.group(2).lower()}")  # "PLEASE USE SHORT SENTENCES"


@rules.search(
    "style.format/format-as",
    r"\bformat (?:your |the |all |my )?(?:answers|replies|responses) (?:as|in|with) (bullet points|bullets|lists|numbered lists|tables|markdown)",
    examples=["Could you format answers as bullet points?"],
    counterexamples=["I format my notes as tables."],
)
def _style_format_format_as(m: re.Match[str], r: Reading) -> None:
    r.add("style", "format", m.group(1).lower())  # "Could you format answers as bullet points?"


@rules.search(
    "style.tone/keep-it",
    r"\bkeep it (short|brief|concise|simple)\b|\bkeep (?:your |the )?(?:answers|replies|responses|it) (upbeat|positive"
    r"|friendly|formal|casual|light|professional|gentle|honest|blunt|warm)\b",
    examples=["keep it brief pls", "keep answers upbeat!"],
    counterexamples=["Keep it safe for me."],
)
def _style_tone_keep_it(m: re.Match[str], r: Reading) -> None:
    if m.group(1):
        r.add("style", "reply_length", m.group(1).lower())  # "keep it brief pls"
    else:
        r.add("style", "tone", m.group(2).lower())  # "keep answers upbeat!"


@rules.search(
    "style.language/answer-in",
    r"(?<![Ii] )\b(?:reply|answer|respond|write(?: to me)?|talk to me)(?: to me| me)? in ((?-i:French|Spanish|German|Italian"
    r"|Portuguese|Dutch|Polish|Swedish|Norwegian|Danish|Finnish|Greek|Turkish|Arabic|Hindi|Japanese|Chinese|Korean|Ukrainian"
    r"|Russian|Welsh|Irish|Catalan))\b(?! (?:food|class|lessons?|style|toast|fries)\b)",
    examples=["Please answer in French from now on"],
    counterexamples=["I answer in French at work."],
)
def _style_language_answer_in(m: re.Match[str], r: Reading) -> None:
    r.add("style", "language", m.group(1))  # "Please answer in French from now on"


@rules.search(
    "style.language/english-variety",
    (
        r"(?<![Ii] )\b(?:reply|answer|respond|write(?: to me)?|talk to me)(?: to me| me)? in (british|american|australian"
        r"|canadian|plain|simple|us|uk) (english|spelling)\b"
        r"|\buse (british|american|australian|us|uk) (english|spelling)\b"
    ),
    examples=["Please answer in American English."],
    counterexamples=["I answer in plain English at work."],
)
def _style_language_english_variety(m: re.Match[str], r: Reading) -> None:
    variety = (m.group(1) or m.group(3)).lower()
    kind = (m.group(2) or m.group(4)).lower()
    r.add("style", "language", f"{variety.upper() if variety in ('us', 'uk') else variety.capitalize()} {'English' if kind == 'english' else kind}")


@rules.match(
    "style.reply_length/label",
    r"(?:please |pls |and )?(short|brief|concise|shorter|long|detailed|longer) (?:answers|replies|responses)(?: please| pls"
    r"| only| from now on)?(?:[.!,]|$)",
    examples=["Short answers please, I read these in the car park."],
    counterexamples=["Short answers are fine sometimes."],
)
def _style_reply_length_label(m: re.Match[str], r: Reading) -> None:
    r.add("style", "reply_length", m.group(1).lower())  # "Short answers please, I read these in the car park."


@rules.search(
    "style.format/explain-with",
    r"\b(?:explain|show|teach|answer)(?: me)?(?: things| stuff| it| everything)? (?:with|using) (code examples|code samples"
    r"|examples|code|diagrams|analogies)\b",
    examples=["Explain things with code examples please"],
    counterexamples=["Explain it with examples if you like."],
)
def _style_format_explain_with(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(please|pls|always|from now on|i learn|i prefer|better that way)\b", r.s, re.I):
        r.add("style", "format", m.group(1).lower())  # "Explain things with code examples please"


@rules.search(
    "style.reply_length/keep-under",
    r"\b(?:keep|make) (?:your |the |all |my )?(?:answers|replies|responses|messages) (?:under|below|within|to|less than"
    r"|shorter than) (\d+ (?:words|lines|sentences)|a paragraph|one paragraph|a few (?:lines|sentences)|a couple of (?:lines"
    r"|sentences)|(?:one|two|three) (?:lines|sentences))",
    examples=["keep your replies to a few sentences", "Pls keep replies under 100 words."],
    counterexamples=["Keep the receipts under 100 euros."],
)
def _style_reply_length_keep_under(m: re.Match[str], r: Reading) -> None:
    length = m.group(1).lower()
    r.add("style", "reply_length", f"under {length}" if length[0].isdigit() else length)  # "keep your replies to a few sentences"  # "Pls keep replies under 100 words."

RULES = rules.rules
