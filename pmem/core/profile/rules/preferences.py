"""What the user likes, dislikes, plays, learns, reads and supports, and the kind of person they are."""

from __future__ import annotations

import re

from pmem.core.profile.rules.engine import Reading, RuleSet, clean
from pmem.core.profile.vocab import (
    NOT_HOBBIES,
    NOT_NAMES,
    ORG,
    PASTIME_GERUNDS,
    PASTIMES,
    TEAM_SPORTS,
    TITLE,
    with_article,
)

rules = RuleSet()


@rules.search(
    "preferences.likes/love",
    r"\bi (?:really |absolutely |just |also |still |truly |genuinely )?(?:love|like|enjoy|adore)\s+([\w' -]{3,40})",
    examples=["I like tea."],
    counterexamples=["I like that…"],
)
def _preferences_likes_love(m: re.Match[str], r: Reading) -> None:
    # Not a thing liked: "I love it", "I like that…", "I love when…", "I love the thought/the way…", "their work".
    if not re.match(
        r"(to know|it|that|this|these|those|you|your|their|his|her|its|how|what|when|all the|and|or|but|"
        r"the (idea|thought|way|fact|feeling|vibe|color|colour|taste|look|sound|tech|new|latest|changes?|update|result|answer|plan|"
        r"suggestion|design|layout)|to come|going to|being|making)\b",
        m.group(1), re.I,
    ):
        r.add("preferences", "likes", m.group(1).lower())


@rules.search(
    "preferences.dislikes/hate",
    (
        r"\bi (?:really |just |honestly )?(?:hate|dislike|detest|loathe|can'?t stand|cannot stand|(?:don'?t|dont|do not"
        r"|no longer|never)(?: really| much| particularly)? (?:like|enjoy|liked|enjoyed|care for))\s+([\w' -]{3,40})"
        r"|\bi(?:'m| am) not (?:a |really a |much of a |a big |a huge )?fan of\s+([\w' -]{3,40})"
    ),
    examples=["I do not like jazz."],
    counterexamples=["She does not like jazz."],
)
def _preferences_dislikes_hate(m: re.Match[str], r: Reading) -> None:
    disliked = (m.group(1) or m.group(2)).lower()
    if not re.match(r"to (say|admit|break|bother|ask|interrupt|be|do this|disagree)\b|it\b|that\b|this\b|when\b|how\b", disliked):
        r.add("preferences", "dislikes", disliked)


@rules.search(
    "preferences.likes/fan-of",
    (
        r"\bi(?:'m| am) (?:a |such a )?(?:big |huge |massive |real )?fan of\s+([\w' -]{3,40})|\bi(?:'m| am) (?:really |totally "
        r"|very |so |now |also |more |big |huge )*into\s+([\w' -]{3,40})"
        r"|\bi(?:'m| am) (?:all about|big on|a sucker for)\s+([\w' -]{3,40})|\bi(?:'ll| will) always (?:love|enjoy)\s+([\w' -]{3,40})"
        r"|\bi(?:'ve| have)? always (?:had a (?:love|passion|soft spot) for|loved)\s+([\w' -]{3,40})"
        r"|\bi (?:can'?t|cannot) get enough of\s+([\w' -]{3,40})|\bi(?:'m| am) (?:obsessed with|crazy about|mad about|hooked on)\s+([\w' -]{3,40})"
    ),
    examples=["I'm a big fan of tennis."],
    counterexamples=["I'm a Big fan of this."],
    unless="preferences.dislikes/hate",
)
def _preferences_likes_fan_of(m: re.Match[str], r: Reading) -> None:
    value = next(g for g in m.groups() if g)
    if not re.match(r"(it|that|this|you|the idea|the way|him|her|them)\b", value, re.I):
        r.add("preferences", "likes", value.lower())


@rules.search(
    "preferences.hobby/play",
    (
        r"\bi (?:also |still |often |regularly |usually )?(?:play|practi[cs]e) (?:the )?([a-z]+(?:-[a-z]+)*(?: (?!(?:in|at|on"
        r"|with|for|every|after|before|when|while)\b)[a-z]+)?)"
        r"|\bi(?: |'ve |'d | have )(?:(?:recently|just|finally|also) )?(?:(?:started|began) (?:playing|practi[cs]ing|doing)"
        r"|(?:took|taken) up (?:playing|doing)) (?:the )?"
        r"([a-z]+(?: (?!(?:last|about|for|since|when|with|again|years?|ago|in|at|on|and|but|as)\b)[a-z]+)?)"
        r"|\bi(?: |'ve | have )(?:(?:recently|just|finally|also) )?(?:took|taken) up ((?:(?!(?:a|an|the|my|some)\b)[a-z]+ )?[a-z]+ing)\b"
    ),
    examples=["I play the cello."],
    counterexamples=["In the game I play a wizard named Elrond."],
)
def _preferences_hobby_play(m: re.Match[str], r: Reading) -> None:
    played = m.group(1) or m.group(2) or m.group(3)
    if not re.match(r"(a|an|with|around|it|that|this|along|them|him|her|my|some|games? with|on|in|for|to|music for|the role|role)\b", played, re.I):
        r.add("preferences", "hobby", clean(played.lower()))


@rules.search(
    "preferences.hobby/go-doing",
    r"\bi (?:also |often |regularly |usually |still )?go ([a-z]+ing)\b|\bi(?:'ve| have) been ((?:cycling|biking|running"
    r"|walking|jogging|skating|rowing|swimming)(?= to (?:work|school|the office|uni|college))|[a-z]+ing(?! to (?:work|school"
    r"|the office|uni|college)))(?: to (?:work|school|the office|uni|college))?(?: a lot| lately| recently| again| more"
    r"| every| for (?:years|ages|months|a while)| since)",
    examples=["I've been knitting a lot lately, it calms me down."],
    counterexamples=["I've been thinking a lot."],
)
def _preferences_hobby_go_doing(m: re.Match[str], r: Reading) -> None:
    verb = (m.group(1) or m.group(2)).lower()
    if verb not in NOT_HOBBIES:
        r.add("preferences", "hobby", verb)


@rules.match(
    "preferences.hobby/is-my-thing",
    r"(?:i'?m )?([a-z]+ing) is my (?:way|thing|passion|hobby|escape|therapy|happy place)\b",
    examples=["Running is my way to clear my head, I do 10k most mornings."],
    counterexamples=["Running is her way to clear her head, she does 10k most mornings."],
)
def _preferences_hobby_is_my_thing(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "hobby", m.group(1).lower())


@rules.search(
    "preferences.learning/started-learning",
    r"\bi(?: |'ve | have )(?:also |just |recently |now )?(?:started|began) (?:learning|to learn) (?:to play |how to play "
    r"|to speak |to )?(?:the )?([a-z][\w' -]{2,40})",
    examples=["I started learning the cello this spring."],
    counterexamples=["She started learning the cello this spring."],
)
def _preferences_learning_started_learning(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "learning", m.group(1).lower())


@rules.search(
    "preferences.learning/learning",
    r"\bi(?:'m| am) (?:currently |also |now )?learning (?:to play |how to play |to speak |to )?(?:the )?([a-z][\w' -]{2,40})"
    r"|\bmy (?:hobby|passion) is ([\w' -]{3,40})",
    examples=["I'm learning Italian now."],
    counterexamples=["She's learning Italian now."],
)
def _preferences_learning_learning(m: re.Match[str], r: Reading) -> None:
    value = (m.group(1) or m.group(2)).lower()
    if not re.match(r"(a ton|a lot|lots|so much|a bit|more|about|how|that|this|from|what|to be|it|new things)\b", value):
        r.add("preferences", "learning" if m.group(1) else "hobby", value)


@rules.search(
    "preferences.learning/been-learning",
    r"\bi(?:'ve| have) been learning (?:to play |to speak |the )?([a-z][\w'-]*(?: [a-z][\w'-]*)?)(?= for\b| since\b| on\b| at\b|[.,!;]|$)",
    examples=["I've been learning Japanese since March."],
    counterexamples=["She's been learning Japanese since March."],
)
def _preferences_learning_been_learning(m: re.Match[str], r: Reading) -> None:
    if not re.match(r"(a|about|how|that|this|more|so|it|to)\b", m.group(1), re.I):
        r.add("preferences", "learning", m.group(1).lower())


@rules.search(
    "preferences.favourite/is",
    r"(?:\bmy |^)fav(?:ou?rite)? ([a-z]+(?: [a-z]+)?) is (?:now |still )?([\w' -][\w' .-]{1,59})",
    examples=["favourite colour is teal"],
    counterexamples=["My sister's favourite colour is teal."],
)
def _preferences_favourite_is(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", f"favourite_{m.group(1).lower()}", m.group(2))


@rules.search(
    "preferences.reading/reading",
    rf"\b[Ii](?:'m| am) (?:currently |now )?(?:reading|re-reading) (?:(?:a|an|this) (?:[a-z]+ ){{0,3}}(?:book|novel|memoir"
    rf"|biography|series),? (?:called|titled) )?[\"'“‘]?{TITLE}",
    examples=["I'm reading Sapiens at the moment."],
    counterexamples=["She's reading Sapiens at the moment."],
    flags=0,
)
def _preferences_reading_reading(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "reading", m.group(1))


@rules.search(
    "preferences.supports/support",
    (
        rf"\bi (?:support|root for|cheer for)\s+(?:the )?{ORG}|\bi(?:'m| am) (?:a )?(?:big |huge |lifelong |die-hard "
        rf"|massive )?(?:supporter|fan) of\s+{ORG}"
        rf"|\bi(?:'m| am|'ve been| have been|'ve always been| have always been) (?:always )?an? (?:lifelong |life-long |huge |big |massive |die-hard |diehard |proud |long-suffering )?(?!(?:big|huge|massive|lifelong|proud|real|true|total|good|great|loyal)\b){ORG} (?:supporter|fan)\b"
    ),
    examples=["I have been a Leicester City supporter all my life", "I'm a huge Taylor Swift fan"],
    counterexamples=["She has been a Leicester City supporter all her life"],
)
def _preferences_supports_support(m: re.Match[str], r: Reading) -> None:
    # "I have been a Leicester City supporter all my life", "I'm a huge Taylor Swift fan"
    team = m.group(1) or m.group(2) or m.group(3)
    if team.split()[0] not in NOT_NAMES:
        r.add("preferences", "supports", team)


@rules.search(
    "preferences.drink/take-my",
    r"\bi (?:drink|take|have|like) my (coffee|tea)\s+((?:with(?:out)? [a-z]+|black|white|strong|weak|sweet|plain|iced|decaf"
    r"|unsweetened)(?:,? (?:and |with(?:out)? |no )?(?:[a-z]+))?)",
    examples=["I drink my tea with lemon."],
    counterexamples=["She drinks her tea with lemon."],
)
def _preferences_drink_take_my(m: re.Match[str], r: Reading) -> None:
    r.put("preferences", m.group(1).lower(), f"{m.group(1).lower()} {m.group(2).lower()}")


@rules.search(
    "preferences.hobby/pastime",
    (
        rf"\bi (?:also |still |often |regularly |usually )?({'|'.join(PASTIMES)})(?: (in) (?:a|an|the|my"
        r"|our) ((?-i:(?:[a-z]+ )?(?:choir|band|club|team|orchestra|group|league|crew|quartet|ensemble))))?"
        r"(?= (?:at night|every|on|in the|at the weekends?|at weekends|after work|before work|most|twice|once|three|four|a lot|regularly)\b|[.,!;]|$)"
    ),
    examples=["I swim at night", "I sing in a church choir every Sunday"],
    counterexamples=["She swims at night"],
)
def _preferences_hobby_pastime(m: re.Match[str], r: Reading) -> None:
    # "I swim at night", "I sing in a church choir every Sunday": a pastime, not "I run a bakery".
    doing = PASTIMES[m.group(1).lower()]
    where = m.group(3) and not re.match(r"(mornings?|evenings?|afternoons?|summers?|winters?|weekends?|week|day|night)\b", m.group(3))
    r.add("preferences", "hobby", f"{doing} {m.group(2).lower()} {with_article(clean(m.group(3)))}" if where else doing)


@rules.search(
    "preferences.trait/person",
    r"\bi(?:'m| am) (not )?(?:really )?(?:a|an) (morning|night|evening|early|people|cat|dog|coffee|tea|beach|city|outdoors"
    r"|indoor) (?:person|people)\b",
    examples=["I'm not a morning person."],
    counterexamples=["My husband is a morning person."],
)
def _preferences_trait_person(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "trait", f"{'not ' if m.group(1) else ''}a {m.group(2).lower()} person")


@rules.match(
    "preferences.likes/big-fan",
    r"(?:i'?m )?(?:a |such a )?(?:big|huge|massive|lifelong|die-hard|avid) ((?-i:[a-z]+(?: [a-z]+)?)) (?:fan|lover|nerd|geek)\b",
    examples=["Big football fan, always have been."],
    counterexamples=["Big news today."],
)
def _preferences_likes_big_fan(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "likes", m.group(1).lower())


@rules.match(
    "preferences.dislikes/not-a-fan",
    r"not (?:a |really a |much of a |a big |a huge )?fan of\s+([\w' -]{3,40})",
    examples=["Not a fan of horror films."],
    counterexamples=["Not a fan of it."],
)
def _preferences_dislikes_not_a_fan(m: re.Match[str], r: Reading) -> None:
    if not re.match(r"(it|that|this|those|these|the idea|your|you|him|her|them)\b", m.group(1), re.I):
        r.add("preferences", "dislikes", m.group(1).lower())


@rules.match(
    "preferences.hobby/play-for-fun",
    r"(?:i )?play (?:the )?([a-z]+) (?:in (?:my )?(?:free|spare) time|for fun)\b",
    examples=["Play accordion in free time."],
    counterexamples=["Play time is over."],
    terse=True,
    flags=0,
)
def _preferences_hobby_play_for_fun(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "hobby", m.group(1))  # "Play accordion in free time."


@rules.search(
    "preferences.hobby/do-weekly",
    r"\bi (?:also |still )?do ([a-z]+) (?:once|twice|three times|\d+ times|every) ?(?:a |per )?(?:week|day|morning|evening|weekend)",
    examples=["i do pilates twice a week"],
    counterexamples=["I do laundry twice a week."],
)
def _preferences_hobby_do_weekly(m: re.Match[str], r: Reading) -> None:
    if m.group(1).lower() not in ("it", "this", "that", "nothing", "something", "laundry", "shopping", "homework", "overtime", "nights"):
        r.add("preferences", "hobby", m.group(1).lower())  # "i do pilates twice a week"


@rules.search(
    "preferences.hobby/started-with-club",
    r"\bi(?:'ve| have)? (?:just |recently |finally )?started ([a-z]+ing) (?:with|at|in) (?:a |the |my )?(?:club|group|class|team|gym)\b",
    examples=["I've started running with a club"],
    counterexamples=["I've started working with a team in Lisbon."],
)
def _preferences_hobby_started_with_club(m: re.Match[str], r: Reading) -> None:
    if m.group(1).lower() not in NOT_HOBBIES:
        r.add("preferences", "hobby", m.group(1).lower())  # "I've started running with a club"


@rules.search(
    "preferences.hobby/choir-band",
    r"\bi (sing|play|perform)(?: (?:the |a |my )?\w+)? (?:in|with) (?:a |an |the |our |my )?(?:local |community |church "
    r"|gospel |chamber |amateur |youth |works? |male voice |female voice |village |symphony )?(choir|orchestra|band"
    r"|brass band|quartet)\b",
    examples=["I sing alto in a community choir"],
    counterexamples=["She sings alto in a community choir"],
)
def _preferences_hobby_choir_band(m: re.Match[str], r: Reading) -> None:
    # "I sing alto in a community choir": the pastime is singing in the choir (or playing in the band)
    verb = "singing" if m.group(1).lower() == "sing" else "playing"
    if not any(m.group(2).lower() in c.value for c in r.found if c.category == "preferences"):  # said better above
        r.add("preferences", "hobby", f"{verb} in a {m.group(2).lower()}")


@rules.search(
    "preferences.hobby/do-with-club",
    (
        r"\bi (?:also |still )?do ([a-z]+ing|[a-z]+) (?:with|at|in) (?:my|a|the|our) (?:local |running |cycling )?(?:club|team|group|class)\b"
        r"|^(?:every|each) (?:weekend|week|morning|evening|day|saturday|sunday|monday|tuesday|wednesday|thursday|friday),? i (?:also |still )?do ([a-z]+ing)\b"
    ),
    examples=["Every weekend I do cycling with my club"],
    counterexamples=["Every weekend She does cycling with her club"],
)
def _preferences_hobby_do_with_club(m: re.Match[str], r: Reading) -> None:
    # "Every weekend I do cycling with my club"
    r.add("preferences", "hobby", (m.group(1) or m.group(2)).lower())


@rules.search(
    "preferences.hobby/joined-team-club",
    r"\bi(?:'ve| have)? (?:just |recently |finally |also )?joined (?:a|an|the|my|our) (?:local |work |office |company |new "
    r"|village |amateur )?((?-i:[a-z][\w-]+(?: [a-z]+)?)) (team|league|club|choir|band|orchestra)\b",
    examples=["Joined a five-a-side team at work", "I joined a running club"],
    counterexamples=["I joined the design team at work."],
)
def _preferences_hobby_joined_team_club(m: re.Match[str], r: Reading) -> None:
    # "Joined a five-a-side team at work", "I joined a running club"
    what, kind = m.group(1).lower(), m.group(2).lower()
    if kind in ("team", "league") and (re.search(r"-", what) or what in TEAM_SPORTS):
        r.add("preferences", "hobby", what)  # a sports team, not a team at work ("the data team")
    elif kind not in ("team", "league") and what not in ("new", "good", "great", "small", "big", "gym", "fan"):
        r.add("preferences", "hobby", f"{what} {kind}")


@rules.search(
    "preferences.hobby/allotment",
    r"\b(?:i|we) (?:have|rent|got|grow [\w ]+? (?:on|at)|work) (?:an|my|our) allotment\b",
    examples=["We rent an allotment by the river."],
    counterexamples=["They rent an allotment by the river."],
)
def _preferences_hobby_allotment(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "hobby", "allotment")


@rules.search(
    "preferences.hobby/started",
    r"\bi(?:'ve| have)? (?:just |recently |finally |also )?(?:started|began|got into|have got into|'ve got into) ((?:(?:sea"
    r"|open[- ]water|wild|indoor|outdoor|trail|road|mountain|rock|ice|cold[- ]water|cross[- ]country|downhill|alpine"
    rf"|backcountry|nordic) )?(?:{PASTIME_GERUNDS}))\b",
    examples=["I started surfing in March and I'm hooked"],
    counterexamples=["She started surfing in March and she's hooked"],
)
def _preferences_hobby_started(m: re.Match[str], r: Reading) -> None:
    r.add("preferences", "hobby", m.group(1).lower())  # "I started surfing in March and I'm hooked"


@rules.search(
    "preferences.hobby/class",
    (
        r"\b(?:i )?(?:went to|had|did|tried|loved|survived) my (?:very )?first (?:(?:weekly|weekend|evening|local|online"
        r"|beginners?'?) )*((?-i:[a-z]+(?: [a-z]+)?)) (?:class|lesson|session|workshop)\b"
        r"|\bi(?:'ve| have)? (?:just |recently |finally )?(?:signed up for|joined|started|enrolled (?:in|on)) (?:a |an |some |this |that |the )?(?:(?:new|weekly|weekend|evening|local|online|little|free|beginners?'?|morning) )*((?-i:[a-z]+(?: [a-z]+)?)) (?:classes|class|lessons|course)\b"
    ),
    examples=["Went to my first pottery class on Saturday and I'm obsessed", "I've joined a salsa class"],
    counterexamples=["I joined a new class at the gym."],
)
def _preferences_hobby_class(m: re.Match[str], r: Reading) -> None:
    # "Went to my first pottery class on Saturday and I'm obsessed", "I've joined a salsa class"
    what = m.group(1) or m.group(2)
    if not re.match(r"(new|online|evening|night|weekly|free|local|business|economy|first|cooking and|driving|antenatal|parenting|maths?|english|history)\b", what):
        r.add("preferences", "hobby", what)


@rules.search(
    "preferences.trait/cat-or-dog",
    r"\bi(?:'m| am) (?:much |far |definitely |totally |very much |more of |much more of |100% )*(?:a|an) (cat|dog) (?:person|lady|guy|man|woman)\b",
    examples=["I'm more of a cat person, honestly"],
    counterexamples=["She's more of a cat person, honestly"],
)
def _preferences_trait_cat_or_dog(m: re.Match[str], r: Reading) -> None:
    if not any(c.attribute == "trait" for c in r.found):
        r.add("preferences", "trait", f"a {m.group(1).lower()} person")  # "I'm more of a cat person, honestly"

RULES = rules.rules
