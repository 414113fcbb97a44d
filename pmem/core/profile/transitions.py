"""Sentences that change the profile rather than add to it: an ending ("I left Asda", "Bento passed away", "Tiago
and I broke up"), a plan ("we're moving to Leeds next month", "I start as a consultant in May"), a plan come true
("we've settled in now", "the new role is great"), a goal reached or dropped ("I ran the half marathon", "I gave up
on Spanish").

Precision first: a plan is kept as a plan (under goals) until a later sentence confirms it, never as the current
fact; words of doubt ("maybe", "thinking about", "might") make no plan at all.
"""

from __future__ import annotations

import re

from pmem.core.profile.model import Candidate, slot_of
from pmem.core.profile.vocab import BUSINESSES, FIRST_STINT, FOODS, JOB_PHRASE, ORG, PASTIME_GERUNDS, PASTIMES, PETS, PLACE, WHEN_WORDS, is_job, is_when

_NAME = r"((?-i:[A-Z][\w'-]+))"
#: The words for a partner: the attributes of the profile's partner slot.
#: Workplaces named by kind, not by name ("I left the hospital"): an ending of whatever employer is current.
_WORKPLACES = "hospital|company|firm|office|school|clinic|agency|bank|shop|store|restaurant|cafe|café|pub|bar|hotel|pharmacy|warehouse|factory|nursery|supermarket|call centre|salon|gym|practice|surgery|garage"
#: Verbs of pastimes an ending may name ("I don't swim any more"): the profile's pastime verbs, and a few that take an
#: object ("I no longer play guitar").
_PASTIME_VERBS = "|".join(sorted(set(PASTIMES) | {"play", "cook", "write", "box"}, key=lambda v: (-len(v), v)))
#: Pastimes as "-ing" words ("I'm not climbing anymore").
_PASTIME_GERUNDS = f"{PASTIME_GERUNDS}|walking"
_PARTNERS = "|".join(sorted((a for _, a in slot_of("people", "partner")), key=lambda a: (-len(a), a)))

_DOUBT = re.compile(
    r"\b(maybe|perhaps|might|(?-i:may)|could|possibly|thinking (?:about|of)|considering|not sure|someday|one day|wonder|"
    r"dream|wish|would|if)\b",
    re.I,
)
_FUTURE_TIME = re.compile(
    r"\b(next (?:week|month|year|spring|summer|autumn|fall|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"tomorrow|soon|on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d+\w*|\d{1,2}(?:st|nd|rd|th)? (?:january|february|march|april|may|june|july|august|september|october|november|december))|"
    r"in (?:january|february|march|april|may|june|july|august|september|october|november|december|a (?:few )?(?:week|month)s?|\d+ (?:days|weeks|months)))\b",
    re.I,
)


def transition_candidates(sentence: str) -> list[Candidate]:
    """Endings, plans, confirmations and completions stated in one of the user's sentences."""
    s = sentence
    out: list[Candidate] = []

    def add(kind: str, category: str, attribute: str, value: str) -> None:
        value = value.strip(" .,;:!\"'")
        if value and len(value) <= 60:
            out.append(Candidate(category, attribute, value, 0.9, "extracted", kind=kind))

    doubtful = bool(_DOUBT.search(s))
    # Plans: a move or a new job announced for later.
    if not doubtful:
        if m := re.search(rf"\b(?:i|we)(?:'re| are|'m| am|'ll be| will be) (?:finally |officially )?(?:moving|relocating)(?: back)? to\s+(?:the )?{PLACE}", s, re.I):
            if not is_when(m.group(1)):
                add("plan", "location", "city", m.group(1))
        elif m := re.search(rf"\b(?:i|we)(?:'ll| will| are going to|'re going to|'m going to) move to\s+(?:the )?{PLACE}", s, re.I):
            add("plan", "location", "city", m.group(1))
        if m := re.search(rf"\bi(?: start|'m starting| am starting|'ll start| will start| begin|'ll begin)(?: as (?:a|an) ((?-i:(?:[a-z-]+ ){{0,2}}[a-z-]+?)))?(?: (?:at|with) {ORG})?(?= (?:in|on|next|tomorrow|from)\b|[.,!]|$)", s, re.I):
            if m.group(1) or m.group(2):
                if m.group(1) and _FUTURE_TIME.search(s):
                    add("plan", "work", "job", m.group(1).lower())
                if m.group(2) and not is_when(m.group(2)):
                    add("plan", "work", "employer", m.group(2))
        if m := re.search(rf"\bi(?:'m| am|'ll be| will be)? ?(?:starting|start|'ll start| will start) (?:at|with) {ORG} as (?:a|an|the) ((?-i:(?:[A-Z]{{2,4}} )?(?:[a-z-]+ ){{0,2}}[a-z-]+?))(?= (?:in|on|next|from|this)\b|[.,!]|$)", s, re.I):
            # "Starting at Wayve as an ML engineer on 2 September."
            if _FUTURE_TIME.search(s) and not is_when(m.group(1)):
                add("plan", "work", "employer", m.group(1))
                if is_job(m.group(2).lower()):
                    add("plan", "work", "job", m.group(2))
        if m := re.search(rf"\bi(?:'ve| have)? (?:just )?(?:accepted|signed|took|taken) (?:an offer|a (?:job )?offer|the (?:job|offer)|a contract|a job) (?:from|with|at) {ORG}", s, re.I):
            add("plan", "work", "employer", m.group(1))
        if m := re.search(rf"\bi(?:'ve| have)? (?:just |finally |officially )?accepted (?:the|a|an) (?:new )?((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+)) (?:post|role|position|job) (?:at|with) {ORG}", s, re.I):
            # "I have accepted the head of science post at Beaumont Leys School, starting in September."
            if is_job(m.group(1)):
                add("plan", "work", "job", m.group(1))
            if not is_when(m.group(2)):
                add("plan", "work", "employer", m.group(2))
        if m := re.search(rf"\bi(?:'m| am|'ll be| will be) (?:officially )?joining {ORG}(?: as (?:a|an|the|their) ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?)))?(?= (?:in|on|next|from|this|after)\b|[.,!]|$)", s, re.I):
            # "joining Spotify as a senior data engineer in October" (its "I'm" put back)
            if not is_when(m.group(1)):
                add("plan", "work", "employer", m.group(1))
            if m.group(2) and is_job(m.group(2)):
                add("plan", "work", "job", m.group(2).lower())
        if m := re.search(rf"\b(?:from|in|starting|as of) (?:{WHEN_WORDS}|next (?:week|month|year|term)|the new year|september|january)\b,? i(?:'ll| will) be (?:the |a |an |their )?{JOB_PHRASE} (?:at|with|for) {ORG}"
                          rf"|\bi(?:'ll| will) be (?:the |a |an |their )?{JOB_PHRASE} (?:at|with|for) {ORG},? (?:from|starting|as of) ", s, re.I):
            # "From January I'll be head of English at St Mary's."
            job, org = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            if is_job(job.lower()):
                add("plan", "work", "job", job)
                if not is_when(org):
                    add("plan", "work", "employer", org)
        if m := re.search(rf"\bi (?:just |finally )?(?:got hired|was hired|have been hired|'ve been hired|got taken on) as (?:a|an) ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?)) (?:at|by|with) {ORG}", s, re.I):
            # "got hired as a junior developer at Hubtel, start monday": a job not yet begun
            if not is_when(m.group(2)) and re.search(r"\b(?:start|starting|from)\b", s, re.I):  # hired as: a job
                add("plan", "work", "job", m.group(1))
                add("plan", "work", "employer", m.group(2))
        if m := re.search(rf"\bi (?:just |finally )?(?:got|landed|was offered|accepted) the ((?-i:(?:[a-z-]+ ){{0,3}}?[a-z-]+?)) (?:job|role|position|post) (?:at|with) {ORG}", s, re.I):
            # "I got the head chef job at Cantina Norte! Starting on the 1st.": a job not yet begun
            if is_job(m.group(1)) and not is_when(m.group(2)):
                add("plan", "work", "job", m.group(1))
                add("plan", "work", "employer", m.group(2))
    # A plan come true.
    if re.search(r"\b(?:i|we)(?:'ve| have)? (?:finally |just |now )?(?:moved|settled)(?: in)?(?: (?:now|here|there|at last|last \w+|on \w+|fine|well|okay|ok))*(?:[.,!;]|$| and\b)"
                 r"|\b(?:since|after) the move\b|\bthe move (?:went|is done|was)", s, re.I):
        add("confirm", "location", "city", "*")
    elif m := re.search(rf"\b{FIRST_STINT} (?:in|at) (?:the new (?:place|flat|house) in )?{PLACE}", s, re.I):
        if not is_when(m.group(1)):
            add("confirm", "location", "city", m.group(1))  # "first week in Leicester. Boxes everywhere."
    if re.search(rf"\b(?:my|the) new (?:job|role|position|team|boss|manager|office)\b|\bstarted (?:my|the) new (?:job|role)\b|\b{FIRST_STINT} (?:at|as|in the (?:new )?(?:job|role)|on the job|running|leading|managing|in charge)\b"
                 r"|\b(?:\w+|a few|a couple of) (?:days|weeks|months) (?:in )?(?:at|as) (?-i:[A-Z])|\b(?:\w+|a few|a couple of) (?:weeks|months) into (?:the|my) (?:new )?(?:job|role)\b", s, re.I) and not re.search(r"\b(?:will|won't|going to|'ll)\b", s, re.I):
        add("confirm", "work", "any", "*")
    # Endings.
    if re.search(r"\bi(?:'m| am) (?:eating|having) (?:meat|fish|chicken) again\b|\bi(?:'ve| have)? (?:started|gone back to|went back to) eating meat\b", s, re.I):
        add("end", "health", "diet", "vegetarian vegan pescatarian")
    if m := re.search(r"\bi(?:'ve| have)? (?:just |finally )?(?:quit|left|resigned from|was laid off from|got laid off from|was fired from) (?:my job (?:at|with) |my job as (?:a|an) |my job|the |my )?((?-i:[A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,3})|[a-z]+ing|[a-z]+)?", s, re.I):
        what = (m.group(1) or "").strip()
        if what.endswith("ing") and what[:1].islower():
            add("end", "work", "job", what)
        elif what[:1].isupper():
            add("end", "work", "employer", what)
        elif re.search(rf"\b(?:quit|left|resigned from|laid off from|fired from) (?:my job|the (?:{_WORKPLACES}))\b", s, re.I):
            add("end", "work", "employer", "*")
    if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:just |finally )?(?:sold|closed|shut down|gave up) (?:the|my|our) (?:\w+ )?({BUSINESSES})\b", s, re.I):
        add("end", "work", "business", m.group(1))
    if m := re.search(rf"\bi (?:no longer|don'?t|do not) ({_PASTIME_VERBS})\b(?: any ?more)?"
                      r"(?: (?:the |my |in (?:the |a |my )?)?((?!any ?more\b)[a-z]+))?", s, re.I):
        if re.search(r"\b(no longer|any ?more)\b", s, re.I):
            # "I no longer play guitar" ends the guitar, not every pastime that is played.
            verb = m.group(1).lower()
            add("end", "preferences", "any", m.group(2) if m.group(2) and verb == "play" else PASTIMES.get(verb, verb))
    if m := re.search(rf"(?:^|\bi(?:'m| am) )(?:not|no longer) ({_PASTIME_GERUNDS})\b", s, re.I):
        if re.search(r"\b(no longer|any ?more)\b", s, re.I):
            add("end", "preferences", "any", m.group(1).lower())  # "I'm not climbing anymore, my shoulder is wrecked."
    if m := re.search(r"(?:^|\bi(?:'m| am) )(?:not|no longer) (?:playing|doing|practi[cs]ing) (?:the )?([a-z]+)\b", s, re.I):
        if re.search(r"\b(no longer|any ?more)\b", s, re.I):
            # "Not playing camogie anymore, my knee is wrecked."
            add("end", "preferences", "any", m.group(1).lower())
    if re.search(r"\bi(?:'ve| have)? (?:just )?retired\b|\bi(?:'m| am) (?:now )?retired\b", s, re.I):
        add("end", "work", "employer", "*")
        add("fact", "work", "job", "retired")
    if m := re.search(rf"\bi (?:don'?t|no longer|do not) (?:live|work) (in|at|for)\s+{PLACE}(?: any ?more)?", s, re.I):
        if m.group(1).lower() == "in":
            add("end", "location", "city", m.group(2))
        else:
            add("end", "work", "employer", m.group(2))
    if m := re.search(rf"\b(?:i|we)(?:'ve| have)? (?:just |finally )?moved (?:out of|away from)\s+{PLACE}", s, re.I):
        add("end", "location", "city", m.group(1))
    if m := re.search(r"\bi(?:'ve| have)? (?:just |finally )?(?:stepped down from|left|quit) (?:the|my|our) (?:\w+ )?(choir|orchestra|band|book club)\b", s, re.I):
        add("end", "preferences", "any", m.group(1).lower())  # "I have stepped down from the choir"
    if m := re.search(r"\bi(?:'m| am) no longer (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}[a-z-]+))(?: any ?more)?(?:[.,!;]|$| and\b| but\b)", s, re.I):
        if is_job(m.group(1)):
            add("end", "work", "job", m.group(1))
    if m := re.search(rf"\bi (?:stopped|have stopped|'ve stopped) working (?:at|for)\s+{ORG}", s, re.I):
        add("end", "work", "employer", m.group(1))
    elif re.search(r"\bi(?:'m| am) (?:now |currently )?(?:unemployed|out of work|between jobs)\b|\bi (?:lost|have lost|'ve lost) my job\b"
                   rf"|\bi (?:stopped|have stopped|'ve stopped) working (?:at|for) the (?:{_WORKPLACES})\b", s, re.I):
        add("end", "work", "employer", "*")
    if m := re.search(rf"\bi(?:'m| am) (?:not|no longer) with {_NAME}(?: any ?more)?\b", s, re.I):
        if re.search(r"\b(any ?more|no longer)\b", s, re.I) and m.group(1)[0].isupper():
            add("end", "people", "any", m.group(1))
    if re.search(r"\bi(?:'m| am) (?:now |newly )?(?:single|divorced)(?: now| again)?\b", s, re.I):
        add("end", "people", "partner", "*")
    if m := re.search(rf"\bi (?:don'?t|do not) have (?:the|my|a|an|our) ({PETS}) any ?more\b|\bi no longer have (?:the|my|a|an|our) ({PETS})\b", s, re.I):
        add("end", "pets", (m.group(1) or m.group(2)).lower().replace(" ", "_"), "*")
    for m in re.finditer(rf"\b(?:we|i) (?:rehomed|gave away|had to rehome|had to give away) (?:my |our |the )?(?:(?:{PETS}) )?{_NAME}", s, re.I):
        if m.group(1)[0].isupper():
            add("end", "pets", "any", m.group(1))
    # Names in endings may be typed in lower case ("mateo and i are done"): an ending only closes a fact whose
    # value it names, so a word that is not a name closes nothing.
    for m in re.finditer(r"\b(\w[\w'-]+) and i (?:have )?(?:broke up|split up|separated|divorced|are done|are no longer together|aren'?t together any ?more|are not together(?: any ?more)?)\b"
                         rf"|\bi (?:broke up|split up|separated) (?:with|from) (?:my (?:{_PARTNERS}),? )?{_NAME}", s, re.I):
        name = m.group(1) or m.group(2)
        if name and name.lower() not in ("i", "we", "she", "he", "it", "they", "me", "and"):
            add("end", "people", "any", name)
    if re.search(rf"\b(?:we|i) (?:broke up|split up|separated|got divorced|are done)\b|\bmy (?:{_PARTNERS}) and i (?:broke up|split up|separated|divorced)\b", s, re.I):
        add("end", "people", "partner", "*")  # the store ends the whole slot
    for m in re.finditer(rf"\b(?:my (?:{PETS}) |our (?:{PETS}) )?{_NAME} (?:has )?(?:passed away|died|ran away|is no longer with us|crossed the rainbow bridge|(?:had to be|was|got) put (?:to sleep|down))"
                         rf"|\b(?:we|i) (?:lost|had to put down|had to say goodbye to) (?:my |our )?(?:(?:{PETS}) )?{_NAME}", s, re.I):
        name = m.group(1) or m.group(2)
        if name and name[0].isupper() and name not in ("I", "We", "She", "He", "It"):
            add("end", "pets", "any", name)
            add("end", "people", "any", name)
    if m := re.search(r"\bi(?:'ve| have)? (?:stopped|quit|given up|gave up|dropped|left) (?:the |my |going to (?:the |my )?)?([a-z]+) (?:class|classes|lessons|course|club|group)\b", s, re.I):
        add("end", "preferences", "any", m.group(1).lower())  # "I've stopped the pottery class, no time"
    if m := re.search(r"\bi (?:had to|have had to|'ve had to) (?:give up|stop|quit|leave) (?:the |my |our )?([a-z]+)\b", s, re.I):
        if m.group(1).lower() not in ("it", "that", "this", "work", "my", "job"):
            add("end", "preferences", "any", m.group(1).lower())  # "I had to give up the allotment"
    if m := re.search(r"\bno more ([a-z]+ing)\b(?! for)", s, re.I):
        if m.group(1).lower() not in ("nothing", "something", "everything", "morning", "evening"):
            add("end", "work", "job", m.group(1).lower())  # "start monday, no more driving 🙌" ends "uber driver"
            add("end", "preferences", "any", m.group(1).lower())  # "no more running for me, my knee is gone"
    # A pastime stopped: "I've stopped swimming", "I stopped singing in the choir".
    if m := re.search(r"\bi(?:'ve| have)? (?:stopped|quit|given up|gave up) ((?!being\b|working\b)[a-z]+ing)\b", s, re.I):
        add("end", "preferences", "any", m.group(1))
    # A manager who left: "My manager Olivier retired", "Helena left, my new boss is Duarte", "my old boss retired".
    if m := re.search(rf"(?:^|\bmy (?:old |former |previous )?(?:manager|boss|team lead|supervisor),? ){_NAME} (?:has |just )*(?:retired|left|quit|resigned|moved on|was fired|got fired|was let go)(?=[.,!;]|$| (?:the (?:company|firm|team|job)|us|last|this|in)\b)", s, re.I):
        if m.group(1)[0].isupper() and m.group(1) not in ("I", "We", "She", "He", "It", "They", "My"):
            add("end", "people", "manager", m.group(1))
    elif re.search(r"\bmy (?:old |former |previous )?(?:manager|boss|team lead|supervisor) (?:has |just )*(?:retired|left|quit|resigned|moved on|was fired|got fired)\b", s, re.I):
        add("end", "people", "manager", "*")
    # Goals reached or dropped.
    if m := re.search(r"\bi (?:finally |just |actually )?(?:ran|finished|completed|passed|achieved|reached|hit|climbed|did) (?:the |my |a |an )?([\w' -]{3,40})", s, re.I):
        if not re.match(r"(it|that|this|nothing|something|some|them|not|and|but|so|or|how|what|when|few|lots|a lot)\b", m.group(1), re.I):
            add("done", "goals", "goal", _cut(m.group(1)))
            if re.match(r"\bi (?:finally |just |actually )?finished\b", s[m.start():], re.I):
                add("end", "preferences", "reading", _cut(m.group(1)))  # "I finished Sapiens": no longer reading it
    if m := re.search(r"\b((?:[\w'-]+ ){0,2}[\w'-]+) goal (?:is |was )?(?:done|achieved|reached|completed?|smashed|hit|ticked off|accomplished|nailed)\b", s, re.I):
        what = re.sub(r"^(?:my|the|that|this|one|first|second|big|main)\s+", "", m.group(1), flags=re.I)
        if not re.fullmatch(r"(?:my|the|that|this|one|a|another|first|second|big|main)", what, re.I):
            add("done", "goals", "goal", what)  # "5k goal done ✅"
    if m := re.search(r"\bi(?:'ve| have)? (?:gave|given) up (?:on )?(?:learning |trying to |the idea of )?([\w' -]{3,40})"
                      r"|\bi(?:'m| am) (?:not|no longer) (?:learning|training for|doing|working on|writing|building) (?:the |my |a |an )?([\w' -]{3,40}?)(?: any ?more|[.,!;]|$)"
                      r"|\bi (?:dropped|abandoned|stopped|scrapped|ditched|shelved|cancell?ed|canceled) (?:learning |training for |working on |my |the )([\w' -]{3,40})", s, re.I):
        what = next(g for g in m.groups() if g)
        if not re.match(rf"(it|that|this|on it|(?:{FOODS}))\b", what, re.I):  # "I gave up meat" is a diet (extract.py)
            add("done", "goals", "goal", _cut(what))
            add("end", "preferences", "any", _cut(what))
            add("end", "projects", "any", _cut(what))
    return out


def _cut(value: str) -> str:
    """The thing itself: "the half marathon on Sunday" -> "half marathon"."""
    value = re.split(r"\s+(?:on|in|at|last|this|yesterday|today|with|and|but|because|after|before|any ?more|finally|so far|(?:a )?(?:few|couple of|\w+) (?:days|weeks|months|years) ago)\b", value, maxsplit=1, flags=re.I)[0]
    return value.strip(" .,;:!\"'")
