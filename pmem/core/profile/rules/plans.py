"""Changes to come and changes made true: a plan ("we're moving to Leeds next month", "I start as a consultant in
May"), a plan come true ("we've settled in now", "the new role is great"), and a correction ("Bristol not
Brighton").

Precision first: a plan is kept as a plan (under goals) until a later sentence confirms it, never as the current
fact; words of doubt ("maybe", "thinking about", "might") make no plan at all."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import (
    FIRST_STINT,
    JOB_PHRASE,
    ORG,
    PLACE,
    WHEN_WORDS,
    is_job,
    is_when,
)

DOUBT = re.compile(
    r"\b(maybe|perhaps|might|(?-i:may)|could|possibly|thinking (?:about|of)|considering|not sure|someday|one day|wonder|"
    r"dream|wish|would|if)\b",
    re.I,
)
FUTURE_TIME = re.compile(
    r"\b(next (?:week|month|year|spring|summer|autumn|fall|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"tomorrow|soon|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d+\w*|\d{1,2}(?:st|nd|rd"
    r"|th)? (?:january|february|march|april|may|june|july|august|september|october|november|december))|"
    r"in (?:january|february|march|april|may|june|july|august|september|october|november|december|a (?:few )?(?:week"
    r"|month)s?|\d+ (?:days|weeks|months)))\b",
    re.I,
)




def certain(r: Reading) -> bool:
    """No word of doubt in the sentence: "maybe", "thinking about", "might" make no plan at all."""
    return DOUBT.search(r.s) is None

rules = RuleSet()


@rules.search(
    "plan.city/moving-to",
    rf"\b(?:i|we)(?:'re| are|'m| am|'ll be| will be) (?:finally |officially )?(?:moving|relocating)(?: back)? to\s+(?:the )?{PLACE}",
    examples=["We're moving to Braga next month."],
    counterexamples=["They're moving to Braga next month."],
    when=certain,
)
def _plan_city_moving_to(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.change("plan", "location", "city", m.group(1))


@rules.search(
    "plan.city/going-to-move",
    rf"\b(?:i|we)(?:'ll| will| are going to|'re going to|'m going to) move to\s+(?:the )?{PLACE}",
    examples=["We're going to move to Leeds."],
    counterexamples=["We might move to Leeds."],
    when=certain,
    unless="plan.city/moving-to",
)
def _plan_city_going_to_move(m: re.Match[str], r: Reading) -> None:
    r.change("plan", "location", "city", m.group(1))


@rules.search(
    "plan.work/i-start",
    r"\bi(?: start|'m starting| am starting|'ll start| will start| begin|'ll begin)(?: as (?:a"
    rf"|an) ((?-i:(?:[a-z-]+ ){{0,2}}[a-z-]+?)))?(?: (?:at|with) {ORG})?(?= (?:in|on|next|tomorrow|from)\b|[.,!]|$)",
    examples=["I'm starting at Google next week."],
    counterexamples=["I've been poached by Arup, I start in May."],
    when=certain,
)
def _plan_work_i_start(m: re.Match[str], r: Reading) -> None:
    if m.group(1) or m.group(2):
        if m.group(1) and FUTURE_TIME.search(r.s):
            r.change("plan", "work", "job", m.group(1).lower())
        if m.group(2) and not is_when(m.group(2)):
            r.change("plan", "work", "employer", m.group(2))


@rules.search(
    "plan.work/starting-at-as",
    rf"\bi(?:'m| am|'ll be| will be)? ?(?:starting|start|'ll start| will start) (?:at|with) {ORG} as (?:a|an"
    rf"|the) ((?-i:(?:[A-Z]{{2,4}} )?(?:[a-z-]+ ){{0,2}}[a-z-]+?))(?= (?:in|on|next|from|this)\b|[.,!]|$)",
    examples=["Starting at Wayve as an ML engineer on 2 September."],
    counterexamples=["Starting at Wayve as an ML engineer was a dream."],
    when=certain,
)
def _plan_work_starting_at_as(m: re.Match[str], r: Reading) -> None:
    # "Starting at Wayve as an ML engineer on 2 September."
    if FUTURE_TIME.search(r.s) and not is_when(m.group(1)):
        r.change("plan", "work", "employer", m.group(1))
        if is_job(m.group(2).lower()):
            r.change("plan", "work", "job", m.group(2))


@rules.search(
    "plan.work/accepted-offer",
    r"\bi(?:'ve| have)? (?:just )?(?:accepted|signed|took|taken) (?:an offer|a (?:job )?offer|the (?:job|offer)|a contract"
    rf"|a job) (?:from|with|at) {ORG}",
    examples=["Big news: I accepted an offer from Deloitte, I start as a senior consultant in May."],
    counterexamples=["Big news: she accepted an offer from Deloitte, she starts as a senior consultant in May."],
    when=certain,
)
def _plan_work_accepted_offer(m: re.Match[str], r: Reading) -> None:
    r.change("plan", "work", "employer", m.group(1))


@rules.search(
    "plan.work/accepted-post",
    r"\bi(?:'ve| have)? (?:just |finally |officially )?accepted (?:the|a"
    rf"|an) (?:new )?((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+)) (?:post|role|position|job) (?:at|with) {ORG}",
    examples=["I have accepted the head of science post at Beaumont Leys School, starting in September."],
    counterexamples=["She has accepted the head of science post at Beaumont Leys School, starting in September."],
    when=certain,
)
def _plan_work_accepted_post(m: re.Match[str], r: Reading) -> None:
    # "I have accepted the head of science post at Beaumont Leys School, starting in September."
    if is_job(m.group(1)):
        r.change("plan", "work", "job", m.group(1))
    if not is_when(m.group(2)):
        r.change("plan", "work", "employer", m.group(2))


@rules.search(
    "plan.work/joining",
    rf"\bi(?:'m| am|'ll be| will be) (?:officially )?joining {ORG}(?: as (?:a|an|the"
    rf"|their) ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?)))?(?= (?:in|on|next|from|this|after)\b|[.,!]|$)",
    examples=["joining Spotify as a senior data engineer in October"],
    counterexamples=["My sister is joining Spotify in October."],
    when=certain,
)
def _plan_work_joining(m: re.Match[str], r: Reading) -> None:
    # "joining Spotify as a senior data engineer in October" (its "I'm" put back)
    if not is_when(m.group(1)):
        r.change("plan", "work", "employer", m.group(1))
    if m.group(2) and is_job(m.group(2)):
        r.change("plan", "work", "job", m.group(2).lower())


@rules.search(
    "plan.work/from-then-i-will-be",
    (
        rf"\b(?:from|in|starting|as of) (?:{WHEN_WORDS}|next (?:week|month|year|term)|the new year|september|january)\b,? i(?:'ll"
        rf"| will) be (?:the |a |an |their )?{JOB_PHRASE} (?:at|with|for) {ORG}"
        rf"|\bi(?:'ll| will) be (?:the |a |an |their )?{JOB_PHRASE} (?:at|with|for) {ORG},? (?:from|starting|as of) "
    ),
    examples=["From January I'll be head of English at St Mary's."],
    counterexamples=["From January She'll be head of English at St Mary's."],
    when=certain,
)
def _plan_work_from_then_i_will_be(m: re.Match[str], r: Reading) -> None:
    # "From January I'll be head of English at St Mary's."
    job, org = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    if is_job(job.lower()):
        r.change("plan", "work", "job", job)
        if not is_when(org):
            r.change("plan", "work", "employer", org)


@rules.search(
    "plan.work/hired-as-start",
    r"\bi (?:just |finally )?(?:got hired|was hired|have been hired|'ve been hired|got taken on) as (?:a"
    rf"|an) ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?)) (?:at|by|with) {ORG}",
    examples=["got hired as a junior developer at Hubtel, start monday"],
    counterexamples=["got hired as a junior developer at Hubtel two years ago"],
    when=certain,
)
def _plan_work_hired_as_start(m: re.Match[str], r: Reading) -> None:
    # "got hired as a junior developer at Hubtel, start monday": a job not yet begun
    if not is_when(m.group(2)) and re.search(r"\b(?:start|starting|from)\b", r.s, re.I):  # hired as: a job
        r.change("plan", "work", "job", m.group(1))
        r.change("plan", "work", "employer", m.group(2))


@rules.search(
    "plan.work/got-the-job",
    rf"\bi (?:just |finally )?(?:got|landed|was offered|accepted) the ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?)) (?:job|role"
    rf"|position|post) (?:at|with) {ORG}",
    examples=["I got the head chef job at Cantina Norte! Starting on the 1st."],
    counterexamples=["She got the head chef job at Cantina Norte! Starting on the 1st."],
    when=certain,
)
def _plan_work_got_the_job(m: re.Match[str], r: Reading) -> None:
    # "I got the head chef job at Cantina Norte! Starting on the 1st.": a job not yet begun
    if is_job(m.group(1)) and not is_when(m.group(2)):
        r.change("plan", "work", "job", m.group(1))
        r.change("plan", "work", "employer", m.group(2))


# A plan come true.
@rules.search(
    "confirm.city/settled",
    (
        r"\b(?:i|we)(?:'ve| have)? (?:finally |just |now )?(?:moved|settled)(?: in)?(?: (?:now|here|there|at last|last \w+"
        r"|on \w+|fine|well|okay|ok))*(?:[.,!;]|$| and\b)"
        r"|\b(?:since|after) the move\b|\bthe move (?:went|is done|was)"
    ),
    examples=["We've settled in now, the flat is lovely."],
    counterexamples=["They've settled in now, the flat is lovely."],
)
def _confirm_city_settled(m: re.Match[str], r: Reading) -> None:
    r.change("confirm", "location", "city", "*")


@rules.search(
    "confirm.city/first-week-in",
    rf"\b{FIRST_STINT} (?:in|at) (?:the new (?:place|flat|house) in )?{PLACE}",
    examples=["first week in Leicester. Boxes everywhere."],
    counterexamples=["My first week in January was hard."],
    unless="confirm.city/settled",
)
def _confirm_city_first_week_in(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)):
        r.change("confirm", "location", "city", m.group(1))  # "first week in Leicester. Boxes everywhere."


# "Actually sorry, Bristol not Brighton, autocorrect hates me": whatever held Brighton now holds Bristol.
def _correction(m: re.Match[str], r: Reading) -> None:
    if not is_when(m.group(1)) and m.group(1) != m.group(2):
        r.put("other", "correction", m.group(1), kind="correct", replaces=m.group(2))


rules.match(
    "correction.city/actually",
    r"(?:(?:actually|sorry|oops|correction|my bad|typo|no no|no)[,:!]?\s+)+(?:i meant |i said |it'?s |it is |i live in "
    rf"|i'm in |i am in )?{PLACE},? not {PLACE}\b",
    examples=["Oops, Ghent not Ghana."], counterexamples=["Actually, Paris is not London."],
)(_correction)
rules.search("correction.city/i-meant", rf"\bi meant {PLACE},? not {PLACE}\b", examples=["Typo earlier: I meant Bristol, not Brighton."], counterexamples=["I meant what I said, not Brighton."],
             unless="correction.city/actually")(_correction)


@rules.search(
    "confirm.work/new-job-begun",
    r"\b(?:my|the) new (?:job|role|position|team|boss|manager|office)\b|\bstarted (?:my|the) new (?:job|role)\b"
    rf"|\b{FIRST_STINT} (?:at|as|in the (?:new )?(?:job|role)|on the job|running|leading|managing|in charge)\b"
    r"|\b(?:\w+|a few|a couple of) (?:days|weeks|months) (?:in )?(?:at|as) (?-i:[A-Z])|\b(?:\w+|a few|a couple of) (?:weeks"
    r"|months) into (?:the|my) (?:new )?(?:job|role)\b",
    examples=["My new manager is Fiona."], counterexamples=["My first week as a nurse will be hard."],
)
def _new_job_begun(m: re.Match[str], r: Reading) -> None:
    if not re.search(r"\b(?:will|won't|going to|'ll)\b", r.s, re.I):
        r.change("confirm", "work", "any", "*")

RULES = rules.rules
