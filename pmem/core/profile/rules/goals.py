"""What the user means to do or is working on: goals, training, projects and businesses of their own."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet, clean
from pmem.core.profile.vocab import is_job, with_article

rules = RuleSet()


@rules.search(
    "goals.goal/intend-to",
    r"\bi (?:fully |really |firmly )?(?:intend|aim|am determined|'m determined) to ((?-i:[a-z]+)[\w' -]{2,60})",
    examples=["I intend to walk the Dales Way next summer"],
    counterexamples=["I aim to please."],
)
def _goals_goal_intend_to(m: re.Match[str], r: Reading) -> None:
    if " " in m.group(1).strip() and not re.match(r"(be|do|say|make sure|keep|try|ask|have|get)\b", m.group(1), re.I):
        r.add("goals", "goal", m.group(1))  # "I intend to walk the Dales Way next summer"


@rules.search(
    "goals.business/my-own",
    r"\bmy (?:own |new |little )(?:([a-z]+) )?(studio|business|company|shop|bakery|restaurant|startup|café|cafe|clinic"
    r"|agency|brand|label|podcast|channel)\b",
    examples=["I finally opened my own bakery."],
    counterexamples=["My neighbour opened her own bakery."],
)
def _goals_business_my_own(m: re.Match[str], r: Reading) -> None:
    r.add("projects", "business", " ".join(g for g in m.groups() if g).lower())


@rules.search(
    "goals.project/working-on",
    r"\bi(?:'m| am) (?:currently )?(?:working on|building|writing) (?:a |an |my )?([\w' -]{3,50})",
    examples=["I'm working on a quilt for my niece."],
    counterexamples=["She's working on a quilt for her niece."],
)
def _goals_project_working_on(m: re.Match[str], r: Reading) -> None:
    if not re.match(r"(something|anything|it|that|them|stuff|things)\b", m.group(1), re.I):
        r.add("projects", "project", m.group(1))


@rules.search(
    "goals.goal/my-goal",
    r"\bmy (?:new |main |big |biggest |current |next )?goal(?: now| for now)?(?: (?:this|for this|for the) (?:year|month"
    r"|summer|spring|autumn|winter))? is (?:now |still )?to ([\w' -]{3,60})",
    examples=["My goal is to run a marathon."],
    counterexamples=["Her goal is to run a marathon."],
)
def _goals_goal_my_goal(m: re.Match[str], r: Reading) -> None:
    r.add("goals", "goal", m.group(1))


@rules.search(
    "goals.goal/want-to",
    r"\bi (?:really )?(?:want|would like|'d like|hope|plan) to (learn|become|visit|travel to|move to|run|start|get better at) ([\w' -]{3,50})",
    examples=["I want to learn Japanese."],
    counterexamples=["My son wants to learn Japanese."],
)
def _goals_goal_want_to(m: re.Match[str], r: Reading) -> None:
    r.add("goals", "goal", f"{m.group(1).lower()} {m.group(2)}")


@rules.search(
    "goals.training_for/training-for",
    r"\bi(?:'m| am) training for (?:a |an |the )?([\w' -]{3,40})",
    examples=["I'm training for the Amsterdam marathon."],
    counterexamples=["She's training for the Amsterdam marathon."],
)
def _goals_training_for_training_for(m: re.Match[str], r: Reading) -> None:
    r.add("goals", "training_for", m.group(1))


@rules.search(
    "goals.goal/degree",
    r"\bi(?: (?:really )?(?:want|hope|plan)|'d (?:really )?like| would like) to (?:do|get|start|finish|complete) (?:a |an "
    r"|my )?((?:masters?|master's|phd|doctorate|degree|mba|diploma|apprenticeship|pgce)(?: (?:in|on) (?:[\w-]+ ){0,3}[\w-]+)?)",
    examples=["i wanna do a masters in oceanography"],
    counterexamples=["she wants to do a masters in oceanography"],
)
def _goals_goal_degree(m: re.Match[str], r: Reading) -> None:
    r.add("goals", "goal", f"do a {re.sub(r' (?:eventually|one day|someday|some day|next year)$', '', m.group(1))}")  # "i wanna do a masters in oceanography"


@rules.search(
    "goals.project/in-progress",
    r"\bmy (?:(?:first|second|new|current) )?(novel|memoir|thesis|dissertation|screenplay|album|podcast)(?:-in-progress| in progress)\b",
    examples=["In my novel-in-progress the heroine is …"],
    counterexamples=["In her novel-in-progress the heroine is …"],
)
def _goals_project_in_progress(m: re.Match[str], r: Reading) -> None:
    r.add("projects", "project", m.group(1).lower())  # "In my novel-in-progress the heroine is …"


@rules.search(
    "goals.goal/training-to-be",
    r"\bi(?:'m| am) (?:now |currently |also )?(?:training|studying|retraining|learning) (?:to be|to become|as) (?:a"
    r"|an) ((?-i:(?:[a-z-]+ ){0,2}?[a-z-]+))(?= now\b|[.,!;]|$| (?:at|in|with|and|but|so)\b)",
    examples=["I'm training to be a sommelier now"],
    counterexamples=["She's training to be a sommelier now"],
)
def _goals_goal_training_to_be(m: re.Match[str], r: Reading) -> None:
    if is_job(m.group(1)) or re.search(r"(sommelier|chef|nurse|doctor|midwife|pilot|barista|vet|yoga teacher)$", m.group(1)):
        r.add("goals", "goal", f"become {with_article(m.group(1))}")  # "I'm training to be a sommelier now"


@rules.search(
    "goals.goal/want-to-make",
    r"\bi(?: (?:really )?(?:want|would like|hope)|'d (?:really )?like) to (publish|write|build|open|finish|complete|climb"
    r"|qualify as|compete in) ((?:my own |a |an |the )?[\w' -]{3,50})",
    examples=["I want to publish my own cookbook one day"],
    counterexamples=["I want to open it later."],
)
def _goals_goal_want_to_make(m: re.Match[str], r: Reading) -> None:
    # "I want to publish my own cookbook one day"
    if not re.match(r"(it|that|this|something|anything|more|down|back|up|out)\b", m.group(2), re.I):
        what = clean(re.sub(r" (?:one day|someday|some day|eventually|in the future)\b.*$", "", m.group(2), flags=re.I))
        r.add("goals", "goal", f"{m.group(1).lower()} {what}")

RULES = rules.rules
