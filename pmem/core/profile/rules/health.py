"""Diet, allergies, intolerances, conditions, and foods the user avoids."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet
from pmem.core.profile.vocab import CONDITIONS, FOODS

rules = RuleSet()


@rules.search(
    "health.diet/im",
    r"\bi(?:'m| am|'ve been| have been) (?:now |still |also |strictly |fully |a |an )*(vegetarian|vegan|pescatarian|keto|gluten[- ]free|omnivore)\b",
    examples=["so I'm pescatarian"],
    counterexamples=["so She's pescatarian"],
)
def _health_diet_im(m: re.Match[str], r: Reading) -> None:
    r.add("health", "diet", m.group(1).lower())


@rules.search(
    "health.avoids/free-or-gave-up",
    r"\bi(?:'m| am| went| have gone|'ve gone| have been|'ve been| eat| keep) (gluten|dairy|lactose|sugar|meat"
    r"|alcohol)[- ]free\b|\bi (?:cut out|gave up|quit|stopped eating|stopped drinking) (sugar|meat|alcohol|dairy|gluten"
    r"|caffeine|coffee|booze)\b",
    examples=["I gave up meat"],
    counterexamples=["She gave up meat"],
)
def _health_avoids_free_or_gave_up(m: re.Match[str], r: Reading) -> None:
    r.add("health", "avoids", (m.group(1) or m.group(2)).lower())


@rules.search(
    "health.diet/went",
    r"\bi (?:switched|changed|moved|converted) to (?:a |an )?(vegetarian|vegan|pescatarian|keto|gluten[- ]free|paleo)\b"
    r"|\bi(?: went| turned| became| have gone|'ve gone) (vegetarian|vegan|pescatarian|keto)\b",
    examples=["I've gone vegan."],
    counterexamples=["She's gone vegan."],
)
def _health_diet_went(m: re.Match[str], r: Reading) -> None:
    r.add("health", "diet", (m.group(1) or m.group(2)).lower())


@rules.search(
    "health.diet/eats-again",
    r"\bi(?: started| eat| now eat| do eat|'m eating| am eating|'m now eating) (?:eating )?(?:(\w+) and )?(meat|fish|chicken"
    r"|seafood)(?: and (meat|fish|chicken|seafood|eggs))? (?:again|now|these days)(?=[.,!;]|$| too\b| since\b)",
    examples=["I'm eating meat again since Easter."],
    counterexamples=["She's eating meat again since Easter."],
)
def _health_diet_eats_again(m: re.Match[str], r: Reading) -> None:
    # "eats meat" says the diet; a named diet in the same sentence ("so I'm pescatarian") says it better.
    eaten = [w.lower() for w in m.groups() if w and w.lower() in ("meat", "fish", "chicken", "seafood", "eggs")]
    if not re.search(r"\bi(?:'m| am|'ve been| have been) (?:now |a |an )*(vegetarian|vegan|pescatarian|keto)\b", r.s, re.I):
        r.add("health", "diet", "eats meat" if "meat" in eaten else f"eats {eaten[0]}")


@rules.search(
    "health.diet/no-longer",
    r"\bi(?:'m| am) (?:no longer|not) (?:a )?(vegetarian|vegan|pescatarian)(?: any ?more)?\b",
    examples=["I'm no longer vegan"],
    counterexamples=["I'm not vegetarian, but I eat little meat."],
    unless="health.diet/eats-again",
)
def _health_diet_no_longer(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(no longer|any ?more)\b", r.s, re.I):
        r.add("health", "diet", f"no longer {m.group(1).lower()}")


@rules.search(
    "health.allergy/allergic-to",
    r"\bi(?:'m| am) allergic to ([\w -]+)",
    examples=["I am allergic to peanuts."],
    counterexamples=["She is allergic to peanuts."],
)
def _health_allergy_allergic_to(m: re.Match[str], r: Reading) -> None:
    r.add("health", "allergy", m.group(1).lower())


@rules.search(
    "health.intolerance/intolerant",
    r"\bi(?:'m| am) ([a-z]+) intolerant\b",
    examples=["I'm lactose intolerant."],
    counterexamples=["She's lactose intolerant."],
)
def _health_intolerance_intolerant(m: re.Match[str], r: Reading) -> None:
    r.add("health", "intolerance", m.group(1).lower())


@rules.search(
    "health.condition/have",
    (
        rf"\bi(?: have|'ve got| was diagnosed with| live with) ({CONDITIONS})\b"
        r"|\bi(?:'m| am) (diabetic|asthmatic|coeliac|celiac|epileptic)\b"
    ),
    examples=["I've got asthma."],
    counterexamples=["She's got asthma."],
)
def _health_condition_have(m: re.Match[str], r: Reading) -> None:
    r.add("health", "condition", (m.group(1) or m.group(2)).lower())


@rules.search(
    "health.condition/levels",
    r"\bmy (cholesterol|blood pressure|blood sugar|iron) (?:is|was|has been|came back) (?:very |too |really |a bit )?(high|low)\b",
    examples=["My blood pressure is a bit high, apparently."],
    counterexamples=["Her blood pressure is a bit high, apparently."],
)
def _health_condition_levels(m: re.Match[str], r: Reading) -> None:
    r.add("health", "condition", f"{m.group(2).lower()} {m.group(1).lower()}")


@rules.search(
    "health.avoids/dont-eat",
    r"\bi (?:don'?t|do not|never|no longer) (?:eat|drink) ([a-z]+(?: (?!(?:at|in|on|for|any|anymore|much|now)\b)[a-z]+)?)",
    examples=["I don't eat pork."],
    counterexamples=["She doesn't eat pork."],
)
def _health_avoids_dont_eat(m: re.Match[str], r: Reading) -> None:
    if not re.match(r"(much|a lot|enough|that|it|this|out|breakfast|lunch|dinner)\b", m.group(1), re.I):
        r.add("health", "avoids", m.group(1).lower())


@rules.search(
    "health.avoids/avoid",
    r"\bi (?:still |also |now |try to |always )?(?:avoid|stay away from|steer clear of|can'?t (?:eat|have|digest)"
    rf"|cannot (?:eat|have|digest)) ((?:red |processed |fried |spicy )?(?:{FOODS}))\b",
    examples=["I still avoid dairy."],
    counterexamples=["She still avoids dairy."],
)
def _health_avoids_avoid(m: re.Match[str], r: Reading) -> None:
    r.add("health", "avoids", m.group(1).lower())


@rules.search(
    "health.condition/im-and",
    r"\bi(?:'m| am)\b[^.]*?,? (?<!borderline )(?<!pre-)(?<!not )(?<!nearly )(?<!almost )(coeliac|celiac|diabetic|asthmatic|epileptic)\b(?!-)",
    examples=["I'm 34 and coeliac."],
    counterexamples=["I'm borderline diabetic."],
)
def _health_condition_im_and(m: re.Match[str], r: Reading) -> None:
    r.add("health", "condition", m.group(1).lower())


@rules.match(
    "health.diet/label",
    r"(vegetarian|vegan|pescatarian)(?: since \w+| for (?:\w+ )?(?:years|months))?(?: now)?[.!]?$",
    examples=["Vegetarian since 2010."],
    counterexamples=["Vegetarian food is great."],
    terse=True,
    flags=0,
)
def _health_diet_label(m: re.Match[str], r: Reading) -> None:
    r.add("health", "diet", m.group(1))  # "Vegetarian since 2010."


@rules.match(
    "health.diet/not-anymore-label",
    r"(?:not|no longer) (?:a )?(vegetarian|vegan|pescatarian)(?: any ?more)?\b",
    examples=["not vegan anymore, cheese won"],
    counterexamples=["Not vegetarian, just picky."],
)
def _health_diet_not_anymore_label(m: re.Match[str], r: Reading) -> None:
    if re.search(r"\b(no longer|any ?more)\b", r.s, re.I):
        r.add("health", "diet", f"no longer {m.group(1).lower()}")  # "not vegan anymore, cheese won", as "I'm no longer vegan"


@rules.match(
    "health.condition/label",
    r"(coeliac|celiac|diabetic|asthmatic|epileptic|type [12] diabetic)(?:,? (?:diagnosed|since) [\w ]+)?[.!]?$",
    examples=["(coeliac, diagnosed at 25)"],
    counterexamples=["Coeliac disease runs in my family."],
)
def _health_condition_label(m: re.Match[str], r: Reading) -> None:
    r.add("health", "condition", m.group(1).lower())  # an aside: "(coeliac, diagnosed at 25)"


@rules.search(
    "health.condition/diagnosis",
    rf"\bmy ({CONDITIONS}|coeliac|celiac|adhd|autism|diabetes) diagnosis\b",
    examples=["gluten free since my coeliac diagnosis in october"],
    counterexamples=["gluten free since her coeliac diagnosis in october"],
)
def _health_condition_diagnosis(m: re.Match[str], r: Reading) -> None:
    r.add("health", "condition", m.group(1).lower())  # "gluten free since my coeliac diagnosis in october"


@rules.search(
    "health.avoids/cutting-out",
    rf"(?:^|\bi'?m |\bi am )(?:slowly )?cutting out ({FOODS})\b",
    examples=["Cutting out sugar is working."],
    counterexamples=["My sister is cutting out sugar."],
)
def _health_avoids_cutting_out(m: re.Match[str], r: Reading) -> None:
    r.add("health", "avoids", m.group(1).lower())  # "Cutting out sugar is working."


@rules.search(
    "health.condition/confirmed",
    r"\b(?:doctor|gp|consultant|specialist|tests?|results?|scans?|biopsy|bloods)\b(?: has| have| just"
    rf"| finally)* (?:confirmed|showed|found)(?: that)? (?:it'?s|it is|it was|i have|i've got) ({CONDITIONS})\b",
    examples=["Doctor confirmed it's coeliac disease"],
    counterexamples=["Doctor confirmed it's nothing serious."],
)
def _health_condition_confirmed(m: re.Match[str], r: Reading) -> None:
    r.add("health", "condition", m.group(1).lower())  # "Doctor confirmed it's coeliac disease"

RULES = rules.rules
