"""Endings and goals reached or dropped: "I left Asda", "Bento passed away", "Tiago and I broke up", "I ran the
half marathon", "I gave up on Spanish". They run before the other rules, so "I quit X and I'm now at Y" ends X
and not Y."""

from __future__ import annotations

import re

from pmem.core.profile.model import slot_of
from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import (
    BUSINESSES,
    FOODS,
    ONE_NAME,
    ORG,
    PASTIME_GERUNDS,
    PASTIME_VERBS,
    PASTIMES,
    PETS,
    PLACE,
    WORKPLACES,
    is_job,
)

#: The words for a partner: the attributes of the profile's partner slot.
PARTNERS = "|".join(sorted((a for _, a in slot_of("people", "partner")), key=lambda a: (-len(a), a)))
#: Pastimes as "-ing" words ("I'm not climbing anymore").
PASTIME_GERUNDS_OR_WALKING = f"{PASTIME_GERUNDS}|walking"
def cut(value: str) -> str:
    """The thing itself: "the half marathon on Sunday" -> "half marathon"."""
    value = re.split(r"\s+(?:on|in|at|last|this|yesterday|today|with|and|but|because|after|before|any ?more|finally|so far|(?:a )?(?:few|couple of|\w+) (?:days|weeks|months|years) ago)\b", value, maxsplit=1, flags=re.I)[0]
    return value.strip(" .,;:!\"'")


rules = RuleSet()


# Endings.
@rules.search(
    "end.diet/eating-meat-again",
    r"\bi(?:'m| am) (?:eating|having) (?:meat|fish|chicken) again\b|\bi(?:'ve| have)? (?:started|gone back to|went back to) eating meat\b",
    examples=["I'm eating meat again since Easter."],
    counterexamples=["She's eating meat again since Easter."],
)
def _end_diet_eating_meat_again(m: re.Match[str], r: Reading) -> None:
    r.change("end", "health", "diet", "vegetarian vegan pescatarian")


@rules.search(
    "end.work/quit-left",
    r"\bi(?:'ve| have)? (?:just |finally )?(?:quit|left|resigned from|was laid off from|got laid off from"
    r"|was fired from) (?:my job (?:at|with) |my job as (?:a|an) |my job|the "
    r"|my )?((?-i:[A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,3})|[a-z]+ing|[a-z]+)?",
    examples=["I left the hospital"],
    counterexamples=["Update: left …"],
)
def _end_work_quit_left(m: re.Match[str], r: Reading) -> None:
    what = (m.group(1) or "").strip()
    if what.endswith("ing") and what[:1].islower():
        r.change("end", "work", "job", what)
    elif what[:1].isupper():
        r.change("end", "work", "employer", what)
    elif re.search(rf"\b(?:quit|left|resigned from|laid off from|fired from) (?:my job|the (?:{WORKPLACES}))\b", r.s, re.I):
        r.change("end", "work", "employer", "*")


@rules.search(
    "end.business/sold-closed",
    rf"\b(?:i|we)(?:'ve| have)? (?:just |finally )?(?:sold|closed|shut down|gave up) (?:the|my|our) (?:\w+ )?({BUSINESSES})\b",
    examples=["We closed the cafe in March."],
    counterexamples=["They closed the cafe in March."],
)
def _end_business_sold_closed(m: re.Match[str], r: Reading) -> None:
    r.change("end", "work", "business", m.group(1))


@rules.search(
    "end.pastime/no-longer-do",
    (
        rf"\bi (?:no longer|don'?t|do not) ({PASTIME_VERBS})\b(?: any ?more)?"
        r"(?: (?:the |my |in (?:the |a |my )?)?((?!any ?more\b)[a-z]+))?"
    ),
    examples=["I no longer play guitar"],
    counterexamples=["I don't bake."],
)
def _end_pastime_no_longer_do(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(no longer|any ?more)\b", r.s, re.I):
        # "I no longer play guitar" ends the guitar, not every pastime that is played.
        verb = m.group(1).lower()
        r.change("end", "preferences", "any", m.group(2) if m.group(2) and verb == "play" else PASTIMES.get(verb, verb))


@rules.search(
    "end.pastime/not-doing-anymore",
    rf"(?:^|\bi(?:'m| am) )(?:not|no longer) ({PASTIME_GERUNDS_OR_WALKING})\b",
    examples=["I'm not climbing anymore, my shoulder is wrecked."],
    counterexamples=["I'm not swimming today."],
)
def _end_pastime_not_doing_anymore(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(no longer|any ?more)\b", r.s, re.I):
        r.change("end", "preferences", "any", m.group(1).lower())  # "I'm not climbing anymore, my shoulder is wrecked."


@rules.search(
    "end.pastime/not-playing-anymore",
    r"(?:^|\bi(?:'m| am) )(?:not|no longer) (?:playing|doing|practi[cs]ing) (?:the )?([a-z]+)\b",
    examples=["Not playing camogie anymore, my knee is wrecked."],
    counterexamples=["Not playing tonight, too tired."],
)
def _end_pastime_not_playing_anymore(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(no longer|any ?more)\b", r.s, re.I):
        # "Not playing camogie anymore, my knee is wrecked."
        r.change("end", "preferences", "any", m.group(1).lower())


@rules.search(
    "end.work/retired",
    r"\bi(?:'ve| have)? (?:just )?retired\b|\bi(?:'m| am) (?:now )?retired\b",
    examples=["I retired last spring."],
    counterexamples=["My dad retired last spring."],
)
def _end_work_retired(m: re.Match[str], r: Reading) -> None:
    r.change("end", "work", "employer", "*")
    r.change("fact", "work", "job", "retired")


@rules.search(
    "end.city-or-employer/not-any-more",
    rf"\bi (?:don'?t|no longer|do not) (?:live|work) (in|at|for)\s+{PLACE}(?: any ?more)?",
    examples=["I don't live in Leeds any more."],
    counterexamples=["I don't live in a big city."],
)
def _end_city_or_employer_not_any_more(m: re.Match[str], r: Reading) -> None:
    if m.group(1).lower() == "in":
        r.change("end", "location", "city", m.group(2))
    else:
        r.change("end", "work", "employer", m.group(2))


@rules.search(
    "end.city/moved-out-of",
    rf"\b(?:i|we)(?:'ve| have)? (?:just |finally )?moved (?:out of|away from)\s+{PLACE}",
    examples=["We've moved out of London. I'm no longer a teacher, and I'm no longer a fan of the city."],
    counterexamples=["They've moved out of London. She's no longer a teacher, and she's no longer a fan of the city."],
)
def _end_city_moved_out_of(m: re.Match[str], r: Reading) -> None:
    r.change("end", "location", "city", m.group(1))


@rules.search(
    "end.pastime/stepped-down-from",
    r"\bi(?:'ve| have)? (?:just |finally )?(?:stepped down from|left|quit) (?:the|my|our) (?:\w+ )?(choir|orchestra|band|book club)\b",
    examples=["I have stepped down from the choir"],
    counterexamples=["She has stepped down from the choir"],
)
def _end_pastime_stepped_down_from(m: re.Match[str], r: Reading) -> None:
    r.change("end", "preferences", "any", m.group(1).lower())  # "I have stepped down from the choir"


@rules.search(
    "end.job/no-longer-a",
    r"\bi(?:'m| am) no longer (?:a|an) ((?-i:(?:[a-z-]+ ){0,2}[a-z-]+))(?: any ?more)?(?:[.,!;]|$| and\b| but\b)",
    examples=["We've moved out of London. I'm no longer a teacher, and I'm no longer a fan of the city."],
    counterexamples=["They've moved out of London. She's no longer a teacher, and she's no longer a fan of the city."],
)
def _end_job_no_longer_a(m: re.Match[str], r: Reading) -> None:
    if is_job(m.group(1)):
        r.change("end", "work", "job", m.group(1))


@rules.search(
    "end.employer/stopped-working-at",
    rf"\bi (?:stopped|have stopped|'ve stopped) working (?:at|for)\s+{ORG}",
    examples=["I stopped working at Tesco."],
    counterexamples=["My wife stopped working at Tesco."],
)
def _end_employer_stopped_working_at(m: re.Match[str], r: Reading) -> None:
    r.change("end", "work", "employer", m.group(1))


@rules.search(
    "end.employer/out-of-work",
    (
        r"\bi(?:'m| am) (?:now |currently )?(?:unemployed|out of work|between jobs)\b|\bi (?:lost|have lost|'ve lost) my job\b"
        rf"|\bi (?:stopped|have stopped|'ve stopped) working (?:at|for) the (?:{WORKPLACES})\b"
    ),
    examples=["I'm currently between jobs."],
    counterexamples=["My brother is between jobs."],
    unless="end.employer/stopped-working-at",
)
def _end_employer_out_of_work(m: re.Match[str], r: Reading) -> None:
    r.change("end", "work", "employer", "*")


@rules.search(
    "end.person/not-with",
    rf"\bi(?:'m| am) (?:not|no longer) with {ONE_NAME}(?: any ?more)?\b",
    examples=["I'm not with Tom anymore. We rehomed our rabbit Mochi."],
    counterexamples=["She's not with Tom anymore. They rehomed their rabbit Mochi."],
)
def _end_person_not_with(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(any ?more|no longer)\b", r.s, re.I) and m.group(1)[0].isupper():
        r.change("end", "people", "any", m.group(1))


@rules.search(
    "end.partner/single",
    r"\bi(?:'m| am) (?:now |newly )?(?:single|divorced)(?: now| again)?\b",
    examples=["I'm single again."],
    counterexamples=["My sister is single again."],
)
def _end_partner_single(m: re.Match[str], r: Reading) -> None:
    r.change("end", "people", "partner", "*")


@rules.search(
    "end.pet/not-any-more",
    rf"\bi (?:don'?t|do not) have (?:the|my|a|an|our) ({PETS}) any ?more\b|\bi no longer have (?:the|my|a|an|our) ({PETS})\b",
    examples=["I don't have the cat any more."],
    counterexamples=["I don't have a cat."],
)
def _end_pet_not_any_more(m: re.Match[str], r: Reading) -> None:
    r.change("end", "pets", (m.group(1) or m.group(2)).lower().replace(" ", "_"), "*")


@rules.each(
    "end.pet/rehomed",
    rf"\b(?:we|i) (?:rehomed|gave away|had to rehome|had to give away) (?:my |our |the )?(?:(?:{PETS}) )?{ONE_NAME}",
    examples=["we rehomed our rabbit Mochi"],
    counterexamples=["they rehomed their rabbit Mochi"],
)
def _end_pet_rehomed(m: re.Match[str], r: Reading) -> None:
    if m.group(1)[0].isupper():
        r.change("end", "pets", "any", m.group(1))


# Names in endings may be typed in lower case ("mateo and i are done"): an ending only closes a fact whose
# value it names, so a word that is not a name closes nothing.
@rules.each(
    "end.partner/broke-up-with",
    (
        r"\b(\w[\w'-]+) and i (?:have )?(?:broke up|split up|separated|divorced|are done|are no longer together"
        r"|aren'?t together any ?more|are not together(?: any ?more)?)\b"
        rf"|\bi (?:broke up|split up|separated) (?:with|from) (?:my (?:{PARTNERS}),? )?{ONE_NAME}"
    ),
    examples=["mateo and i are done"],
    counterexamples=["mateo and tom are done"],
)
def _end_partner_broke_up_with(m: re.Match[str], r: Reading) -> None:
    name = m.group(1) or m.group(2)
    if name and name.lower() not in ("i", "we", "she", "he", "it", "they", "me", "and"):
        r.change("end", "people", "any", name)


@rules.search(
    "end.partner/broke-up",
    rf"\b(?:we|i) (?:broke up|split up|separated|got divorced|are done)\b|\bmy (?:{PARTNERS}) and i (?:broke up|split up|separated|divorced)\b",
    examples=["me and Tom broke up"],
    counterexamples=["Ana and Tom broke up"],
)
def _end_partner_broke_up(m: re.Match[str], r: Reading) -> None:
    r.change("end", "people", "partner", "*")  # the store ends the whole slot


@rules.each(
    "end.pet/passed-away",
    (
        rf"\b(?:my (?:{PETS}) |our (?:{PETS}) )?{ONE_NAME} (?:has )?(?:passed away|died|ran away|is no longer with us"
        r"|crossed the rainbow bridge|(?:had to be|was|got) put (?:to sleep|down))"
        rf"|\b(?:we|i) (?:lost|had to put down|had to say goodbye to) (?:my |our )?(?:(?:{PETS}) )?{ONE_NAME}"
    ),
    examples=["Mochi ran away yesterday."],
    counterexamples=["The battery died yesterday."],
)
def _end_pet_passed_away(m: re.Match[str], r: Reading) -> None:
    name = m.group(1) or m.group(2)
    if name and name[0].isupper() and name not in ("I", "We", "She", "He", "It"):
        r.change("end", "pets", "any", name)
        r.change("end", "people", "any", name)


@rules.search(
    "end.pastime/stopped-class",
    r"\bi(?:'ve| have)? (?:stopped|quit|given up|gave up|dropped|left) (?:the |my |going to (?:the |my )?)?([a-z]+) (?:class"
    r"|classes|lessons|course|club|group)\b",
    examples=["I've stopped the pottery class, no time"],
    counterexamples=["She's stopped the pottery class, no time"],
)
def _end_pastime_stopped_class(m: re.Match[str], r: Reading) -> None:
    r.change("end", "preferences", "any", m.group(1).lower())  # "I've stopped the pottery class, no time"


@rules.search(
    "end.pastime/had-to-give-up",
    r"\bi (?:had to|have had to|'ve had to) (?:give up|stop|quit|leave) (?:the |my |our )?([a-z]+)\b",
    examples=["I had to give up the allotment"],
    counterexamples=["She had to give up the allotment"],
)
def _end_pastime_had_to_give_up(m: re.Match[str], r: Reading) -> None:
    if m.group(1).lower() not in ("it", "that", "this", "work", "my", "job"):
        r.change("end", "preferences", "any", m.group(1).lower())  # "I had to give up the allotment"


@rules.search(
    "end.job/no-more-doing",
    r"\bno more ([a-z]+ing)\b(?! for)",
    examples=["start monday, no more driving 🙌"],
    counterexamples=["no more evening shifts"],
)
def _end_job_no_more_doing(m: re.Match[str], r: Reading) -> None:
    if m.group(1).lower() not in ("nothing", "something", "everything", "morning", "evening"):
        r.change("end", "work", "job", m.group(1).lower())  # "start monday, no more driving 🙌" ends "uber driver"
        r.change("end", "preferences", "any", m.group(1).lower())  # "no more running for me, my knee is gone"


# A pastime stopped: "I've stopped swimming", "I stopped singing in the choir".
@rules.search(
    "end.pastime/stopped-doing",
    r"\bi(?:'ve| have)? (?:stopped|quit|given up|gave up) ((?!being\b|working\b)[a-z]+ing)\b",
    examples=["I've stopped swimming", "I stopped singing in the choir"],
    counterexamples=["She's stopped swimming"],
)
def _end_pastime_stopped_doing(m: re.Match[str], r: Reading) -> None:
    r.change("end", "preferences", "any", m.group(1))


# A manager who left: "My manager Olivier retired", "Helena left, my new boss is Duarte", "my old boss retired".
@rules.search(
    "end.manager/named-left",
    rf"(?:^|\bmy (?:old |former |previous )?(?:manager|boss|team lead|supervisor),? ){ONE_NAME} (?:has |just )*(?:retired"
    r"|left|quit|resigned|moved on|was fired|got fired|was let go)(?=[.,!;]|$| (?:the (?:company|firm|team|job)|us|last|this|in)\b)",
    examples=["My manager Olivier retired", "Helena left, my new boss is Duarte"],
    counterexamples=["Her manager Olivier retired"],
)
def _end_manager_named_left(m: re.Match[str], r: Reading) -> None:
    if m.group(1)[0].isupper() and m.group(1) not in ("I", "We", "She", "He", "It", "They", "My"):
        r.change("end", "people", "manager", m.group(1))


@rules.search(
    "end.manager/left",
    r"\bmy (?:old |former |previous )?(?:manager|boss|team lead|supervisor) (?:has |just )*(?:retired|left|quit|resigned"
    r"|moved on|was fired|got fired)\b",
    examples=["my old boss retired"],
    counterexamples=["her old boss retired"],
    unless="end.manager/named-left",
)
def _end_manager_left(m: re.Match[str], r: Reading) -> None:
    r.change("end", "people", "manager", "*")


# Goals reached or dropped.
@rules.search(
    "done.goal/ran-finished",
    r"\bi (?:finally |just |actually )?(?:ran|finished|completed|passed|achieved|reached|hit|climbed|did) (?:the |my |a |an )?([\w' -]{3,40})",
    examples=["I finished Sapiens"],
    counterexamples=["She finished Sapiens"],
)
def _done_goal_ran_finished(m: re.Match[str], r: Reading) -> None:
    if not re.match(r"(it|that|this|nothing|something|some|them|not|and|but|so|or|how|what|when|few|lots|a lot)\b", m.group(1), re.I):
        r.change("done", "goals", "goal", cut(m.group(1)))
        if re.match(r"\bi (?:finally |just |actually )?finished\b", r.s[m.start():], re.I):
            r.change("end", "preferences", "reading", cut(m.group(1)))  # "I finished Sapiens": no longer reading it


@rules.search(
    "done.goal/goal-done",
    r"\b((?:[\w'-]+ ){0,2}[\w'-]+) goal (?:is |was )?(?:done|achieved|reached|completed?|smashed|hit|ticked off|accomplished|nailed)\b",
    examples=["5k goal done ✅"],
    counterexamples=["a goal reached is closed"],
)
def _done_goal_goal_done(m: re.Match[str], r: Reading) -> None:
    what = re.sub(r"^(?:my|the|that|this|one|first|second|big|main)\s+", "", m.group(1), flags=re.I)
    if not re.fullmatch(r"(?:my|the|that|this|one|a|another|first|second|big|main)", what, re.I):
        r.change("done", "goals", "goal", what)  # "5k goal done ✅"


@rules.search(
    "done.goal/gave-up-on",
    (
        r"\bi(?:'ve| have)? (?:gave|given) up (?:on )?(?:learning |trying to |the idea of )?([\w' -]{3,40})"
        r"|\bi(?:'m| am) (?:not|no longer) (?:learning|training for|doing|working on|writing|building) (?:the |my |a "
        r"|an )?([\w' -]{3,40}?)(?: any ?more|[.,!;]|$)"
        r"|\bi (?:dropped|abandoned|stopped|scrapped|ditched|shelved|cancell?ed|canceled) (?:learning |training for |working on |my |the )([\w' -]{3,40})"
    ),
    examples=["I've stopped the pottery class, no time"],
    counterexamples=["I gave up meat"],
)
def _done_goal_gave_up_on(m: re.Match[str], r: Reading) -> None:
    what = next(g for g in m.groups() if g)
    if not re.match(rf"(it|that|this|on it|(?:{FOODS}))\b", what, re.I):  # "I gave up meat" is a diet (health.py)
        r.change("done", "goals", "goal", cut(what))
        r.change("end", "preferences", "any", cut(what))
        r.change("end", "projects", "any", cut(what))

RULES = rules.rules
