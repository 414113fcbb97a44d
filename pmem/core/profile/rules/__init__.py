"""The profile rules: named patterns by topic, each with the sentences it must read and those it must leave alone,
and the order a sentence is given to them in."""

from __future__ import annotations

from pmem.core.profile.rules import (
    endings,
    goals,
    health,
    identity,
    location,
    people,
    pets,
    plans,
    preferences,
    style,
    work,
)
from pmem.core.profile.rules.engine import MessageRule, Rule
from pmem.core.profile.rules.message import MESSAGE_RULES

BY_NAME: dict[str, Rule] = {r.name: r for m in (endings, plans, identity, location, work, people, pets, health, preferences, style, goals) for r in m.RULES}

#: The order a sentence is given to the rules: the changes (endings, plans) first ("I quit X and I'm now at Y" must not end Y), then
#: the order the rules were written in. Some read what an earlier one found ("said better above") or matched.
ORDER: tuple[str, ...] = (
    "plan.city/moving-to", "plan.city/going-to-move", "plan.work/i-start", "plan.work/starting-at-as",
    "plan.work/accepted-offer", "plan.work/accepted-post", "plan.work/joining", "plan.work/from-then-i-will-be",
    "plan.work/hired-as-start", "plan.work/got-the-job", "confirm.city/settled", "confirm.city/first-week-in",
    "confirm.work/new-job-begun", "end.diet/eating-meat-again", "end.work/quit-left", "end.business/sold-closed",
    "end.pastime/no-longer-do", "end.pastime/not-doing-anymore", "end.pastime/not-playing-anymore", "end.work/retired",
    "end.city-or-employer/not-any-more", "end.city/moved-out-of", "end.pastime/stepped-down-from", "end.job/no-longer-a",
    "end.employer/stopped-working-at", "end.employer/out-of-work", "end.person/not-with", "end.partner/single",
    "end.pet/not-any-more", "end.pet/rehomed", "end.partner/broke-up-with", "end.partner/broke-up",
    "end.pet/passed-away", "end.pastime/stopped-class", "end.pastime/had-to-give-up", "end.job/no-more-doing",
    "end.pastime/stopped-doing", "end.manager/named-left", "end.manager/left", "done.goal/ran-finished",
    "done.goal/goal-done", "done.goal/gave-up-on", "identity.name/im-alone", "identity.name/nice-to-meet",
    "identity.name/my-name-is", "identity.name/call-me", "identity.name/im-introduced", "identity.name/here-its",
    "identity.nickname/go-by", "identity.age/im-aged", "location.city/live-in", "location.city/moved-to",
    "location.city/settled-in", "location.city/back-in", "location.city/in-now", "work.job/new-job-as",
    "work.job/qualified-as", "goals.goal/intend-to", "people.manager/report-to", "location.city/new-place-in",
    "identity.name/changed-to", "identity.hometown/from", "work.job/as-a", "work.employer/work-at",
    "work.job/im-a", "work.job/teach", "work.employer/started-at", "people.relation/no-longer",
    "people.relation/is-called", "people.relation/my-named", "pets.name/is-called", "people.partner/married-dating",
    "people.child/named", "pets.name/have-called", "pets.name/among-others", "pets.name/my-named",
    "people.children/number", "people.children/one", "people.children/mentioned", "people.child/his-her-name",
    "work.former_employer/used-to-work", "goals.business/my-own", "health.diet/im", "health.avoids/free-or-gave-up",
    "health.diet/went", "health.diet/eats-again", "health.diet/no-longer", "work.business/run-own",
    "health.allergy/allergic-to", "health.intolerance/intolerant", "health.condition/have", "health.condition/levels",
    "health.avoids/dont-eat", "work.job/work-at-as", "preferences.likes/love", "preferences.dislikes/hate",
    "preferences.likes/fan-of", "preferences.hobby/play", "preferences.hobby/go-doing", "style.format/prefer",
    "preferences.hobby/is-my-thing", "work.employer/work-at-a", "work.employer/now-at", "work.job/by-day",
    "preferences.learning/started-learning", "preferences.learning/learning", "preferences.learning/been-learning", "preferences.favourite/is",
    "style.reply_length/prefer", "goals.project/working-on", "goals.goal/my-goal", "goals.goal/want-to",
    "preferences.reading/reading", "goals.training_for/training-for", "identity.name/speaking", "location.city/moved-from-to",
    "identity.hometown/grew-up-in", "work.employer/joined-as", "work.employer/new-job-at", "identity.language/speak",
    "preferences.supports/support", "preferences.drink/take-my", "preferences.hobby/pastime", "health.avoids/avoid",
    "pets.name/listed", "pets.name/breed", "people.child/listed", "identity.name/terse",
    "identity.name/terse-lower-case", "people.relation/lives-in", "preferences.trait/person", "preferences.likes/big-fan",
    "preferences.dislikes/not-a-fan", "health.condition/im-and", "work.job/first-stint-as", "people.relation/without-my",
    "work.job/label", "work.employer/new-job-label", "health.diet/label", "location.city/now-in-label",
    "preferences.hobby/play-for-fun", "preferences.hobby/do-weekly", "preferences.hobby/started-with-club", "location.city/bought-home-in",
    "identity.age/years-old", "preferences.hobby/choir-band", "preferences.hobby/do-with-club", "preferences.hobby/joined-team-club",
    "work.business/opened-called", "work.subject/studying-at", "work.school/student-at", "location.city/moved-into",
    "people.partner/and-i-together", "goals.goal/degree", "style.wording/use", "style.format/format-as",
    "health.diet/not-anymore-label", "work.employer/got-job-at-the", "preferences.hobby/allotment", "work.employer/headhunted",
    "goals.project/in-progress", "health.condition/label", "identity.age/turned", "goals.goal/training-to-be",
    "identity.name/its-after-greeting", "work.job/im-a-acronym", "health.condition/diagnosis", "style.tone/keep-it",
    "work.field/work-in", "work.employer/now-at-as", "health.avoids/cutting-out", "correction.city/actually",
    "correction.city/i-meant", "identity.age/at-age", "identity.name/sign-from", "preferences.hobby/started",
    "preferences.hobby/class", "health.condition/confirmed", "preferences.trait/cat-or-dog", "style.language/answer-in",
    "style.language/english-variety", "style.reply_length/label", "style.format/explain-with", "style.reply_length/keep-under",
    "goals.goal/want-to-make", "people.partner/anniversary",
)
SENTENCE_RULES: tuple[Rule, ...] = tuple(BY_NAME[name] for name in ORDER)

__all__ = ["BY_NAME", "MESSAGE_RULES", "ORDER", "SENTENCE_RULES", "MessageRule", "Rule"]
