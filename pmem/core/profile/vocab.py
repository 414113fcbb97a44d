"""The profile rules' vocabulary: word lists and regular-expression pieces every rule module uses, so a pet, a place,
a name or a month is the same thing to all of them."""

from __future__ import annotations

import re

#: Animals people keep, as an alternation (no group: callers wrap it).
PETS = "dog|cat|puppy|kitten|rabbit|bunny|hamster|parrot|budgie|canary|horse|pony|fish|tortoise|turtle|guinea pig|ferret|gecko|lizard|snake|chickens|goat|pet"
#: Breeds named instead of the animal ("a corgi named Waffles"), with the kind of pet each is.
BREEDS = {
    **dict.fromkeys("labrador corgi beagle poodle terrier spaniel collie husky dachshund pug retriever greyhound whippet".split(), "dog"),
    **dict.fromkeys("tabby siamese persian".split(), "cat"),
}
#: Words for the people in one's life, as an alternation (no group: callers wrap it).
RELATIONS = (
    "(?:sister|brother|mother|father|son|daughter)-in-law|step-?(?:sister|brother|mother|father|mum|mom|dad|son|daughter)|"
    "half-(?:sister|brother)|headteacher|head teacher|line manager|supervisor|team lead|niece|nephew|grandson|granddaughter|godson|goddaughter|godmother|godfather|"
    "sister|brother|mother|mum|mom|father|dad|wife|husband|partner|girlfriend|boyfriend|fiancee?|son|daughter|"
    "boss|manager|best friend|friend|colleague|roommate|flatmate|grandmother|grandfather|grandma|grandpa|aunt|uncle|cousin|"
    "bf|gf|hubby|wifey"
)
#: Businesses a person runs, owns or sells, as an alternation (no group: callers wrap it).
BUSINESSES = "bakery|business|shop|café|cafe|restaurant|company|studio|bar|salon|agency|farm|clinic|store|startup|practice|bookshop|gym"
#: Verbs of pastimes said without an object ("I swim at night"), with the word the profile keeps.
PASTIMES = {
    "swim": "swimming", "run": "running", "jog": "jogging", "cycle": "cycling", "bike": "biking", "climb": "climbing",
    "boulder": "bouldering", "hike": "hiking", "paint": "painting", "draw": "drawing", "knit": "knitting", "sing": "singing",
    "dance": "dancing", "surf": "surfing", "ski": "skiing", "bake": "baking", "garden": "gardening", "fish": "fishing",
    "skate": "skating", "row": "rowing", "sail": "sailing", "meditate": "meditating", "sketch": "sketching",
    "crochet": "crocheting", "sew": "sewing", "kayak": "kayaking", "skateboard": "skateboarding", "golf": "golfing",
}
#: The pastimes as "-ing" words, as an alternation (no group: callers wrap it): "I started surfing".
PASTIME_GERUNDS = "|".join(sorted(set(PASTIMES.values())))
#: A job as one states it, lower case, or a headship of something named ("head of English"). One group.
JOB_PHRASE = r"((?-i:(?:head|director|chief|lead) of [A-Za-z]+|(?:[a-z-]+ ){0,3}?[a-z-]+?))"
#: Foods and drinks people avoid, as an alternation (no group: callers wrap it).
FOODS = (
    "dairy|gluten|wheat|sugar|meat|pork|beef|chicken|fish|shellfish|seafood|nuts|peanuts|eggs|soy|lactose|caffeine|coffee|"
    "alcohol|carbs|salt|spicy food|fried food|processed food|junk food|garlic|onions?|mushrooms|tomatoes"
)
#: A place: capitalised words, with the small joining words of place names ("Rio de Janeiro"). One group.
PLACE = r"((?-i:[A-Z][\w'.-]+(?: (?:(?:de|del|la|le|van|von|der|am) )?[A-Z][\w'.-]+){0,3}))"
#: An employer or school: capitalised words ("Fokker Labs", "H&M"). One group.
ORG = r"((?-i:[A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,3}))"
#: Capitalised words that follow "at"/"in"/"to" but are times, not places or employers.
WHEN_WORDS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Christmas|Easter)"
)
#: The first stretch of a new job ("first day", "first half term", "first shifts"): said of a job that has begun.
FIRST_STINT = r"first (?:full )?(?:day|week|month|term|half[- ]term|semester|year|shifts?)"
_WHEN = re.compile(WHEN_WORDS)


def is_when(words: str) -> bool:
    """Whether words a pattern took for a place or an employer are a time ("moving in June", "at Easter")."""
    return _WHEN.fullmatch(words) is not None


#: Words that end like a job ("-er") but name a role or a relation: "as a mother", "I'm no longer a fan".
NOT_JOBS = re.compile(
    r"\b(mother|father|brother|sister|daughter|member|beginner|lover|fan|teenager|kid|child|parent|mom|dad|friend|"
    r"person|result|matter|reminder|newcomer|outsider|foreigner|survivor|leader|partner|owner|player|reader|viewer|"
    r"listener|runner|follower|supporter|believer|user|customer|consumer|voter|speaker|learner|introvert|extrovert|"
    r"vegetarian|pescatarian|christian|pedestrian|civilian|libertarian|octogenarian|nonagenarian|septuagenarian)$"
)
#: A job: a word ending like one ("-er", "-ist", "-ian") or a common job title. Search the last word.
JOB_WORDS = re.compile(
    r"(er|or|ist|ian|ant|ent|eer|ect|nurse|doctor|chef|teacher|student|engineer|designer|developer|scientist|"
    r"lawyer|pilot|farmer|barista|librarian|accountant|architect|artist|writer|journalist|photographer|"
    r"programmer|consultant|analyst|economist|professor|researcher|manager|director|carpenter|electrician|plumber|dev|vet|"
    r"midwife|surgeon|paramedic|mechanic|physio|nanny|waitress|actress|"
    r"(?:head|director|chief|lead) of [a-z]+(?: [a-z]+)?)$"
)


def is_job(words: str) -> bool:
    """Whether ``words`` name a job ("writer", "senior engineer"), not a role or relation ("mother", "fan")."""
    return bool(JOB_WORDS.search(words)) and not NOT_JOBS.search(words)


#: Short forms people type for their relations, and the attribute each is kept under.
RELATION_WORDS = {"headteacher": "manager", "head teacher": "manager", "supervisor": "manager", "line manager": "manager", "team lead": "manager", "mum": "mother", "mom": "mother", "dad": "father", "bf": "boyfriend", "gf": "girlfriend", "hubby": "husband", "wifey": "wife"}

#: A name: one or two capitalised words, matched case-sensitively inside otherwise case-insensitive patterns.
NAME = r"((?-i:[A-Z][\w'-]+(?: (?!I\b)[A-Z][\w'-]+)?))"  # not "Priya I'm" of an unpunctuated "my name is Priya I'm a nurse"

#: A greeting that may open a message before an introduction ("Hi! I'm Ines", "Morning! Olu Adeyemi, nice to …").
HELLO = r"(?:hi|hello|hey|hiya|ciao|hola|bonjour|coucou|hallo|hoi|salut|hej|hei|moin|olá|ola|yo|howdy|greetings|morning|evening|good (?:morning|afternoon|evening)|new here)(?: there)?"

#: Words a chat sentence may open with before its subject ("So I …", "Update: left …", "Now I'm …").
OPENERS = r"(?:ok|okay|so|also|and|well|honestly|anyway|update|news|now|then|but|still)"

#: Where one lives, before the town it is in: "I live in a bungalow in Ripon".
DWELLING = r"(?:a|an|the|our|my) (?:[a-z]+ ){0,2}?(?:house|flat|bungalow|cottage|apartment|studio|houseboat|terrace|room|caravan|farmhouse|condo|loft|village|town|suburb|place|home)"

#: Words before ", 29, …" that describe, not name: "me, 29, nurse", "male, 29, engineer".
NOT_INTRODUCED = frozenset("me myself male female man woman guy girl boy dude lady mum mom dad mother father wife husband age update".split())

#: Conditions a person lives with, as an alternation (no group: callers wrap it).
CONDITIONS = (
    r"diabetes|type \d diabetes|asthma|celiac disease|coeliac disease|adhd|migraines|epilepsy|arthritis|crohn'?s(?: disease)?|"
    r"(?:high|low) (?:cholesterol|blood pressure|blood sugar)|hypertension|eczema|psoriasis|ibs|gout|tinnitus|sleep apno?ea|hypothyroidism|"
    r"atrial fibrillation|afib|angina|copd|osteoporosis|osteoarthritis|glaucoma|anaemia|anemia|endometriosis|pcos|fibromyalgia|lupus|"
    r"multiple sclerosis|parkinson'?s(?: disease)?|heart failure|a heart condition|long covid"
)

#: Sports played in a team or league ("joined a netball team"); a team at work is not a pastime.
TEAM_SPORTS = frozenset(
    "football soccer rugby cricket hockey netball basketball volleyball softball baseball handball polo rowing "
    "darts quiz bowling tennis badminton squash hurling camogie lacrosse frisbee dodgeball korfball".split()
) | {"water polo", "pub quiz", "ultimate frisbee"}  # not "water", "pub" or "ultimate" alone

#: Ages of children written as words ("Niamh is four").
SMALL_NUMBERS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"

#: Jobs people write as their initials, in capitals.
ACRONYM_JOBS = r"(?-i:CEO|CTO|CFO|COO|CIO|SRE|SWE|SDE|PM|QA|UX designer|UI designer|GP|HR manager|IT manager|IT consultant)"

#: A greeting or an announcement with its punctuation, before "I'm …, working as a …" ("Big news: I'm …"); wider than
#: ``HELLO`` (it takes "so", "yes", "update"), since here it only has to be skipped, not to mark an introduction.
GREETING = r"(?:(?:hi|hello|hey|so|well|yes|yeah|also|anyway|big news|update|good news)(?: there)?[,!:.]?\s+)"

#: "-ing" words after "I've been" that are not pastimes.
NOT_HOBBIES = frozenset(
    "thinking feeling working looking trying going getting doing having wondering meaning planning waiting struggling dealing "
    "talking saying hoping considering dying telling asking using spending taking making sleeping eating living staying "
    "coming helping watching listening being sitting keeping putting seeing worrying stressing learning "
    "missing needing wanting studying applying interviewing searching researching moving packing saving".split()
)

#: Capitalised words after "I'm" that are not names: nationalities, languages, moods, titles.
NOT_A_NAME = re.compile(
    r"^(?:[A-Z][a-z]+(?:ish|ese)|Dutch|French|Greek|Thai|American|German|Italian|Indian|Korean|Canadian|Mexican|Sorry|Fine|Good|Great|Okay|Ok|Back|Here|Just|So|Not|Still|Also|"
    r"Really|Very|Currently|Now|Done|Ready|Happy|Glad|Tired|Busy|Home|Going|Trying|Looking|Thinking|Doing|Working|Mr|Mrs|Ms|Dr)\b"
)

#: Capitalised words that open a sentence but are never a name.
NOT_NAMES = frozenset({"I", "I'm", "I've", "I'd", "I'll", "The", "A", "An", "And", "But", "So", "My", "He", "She", "They", "We", "It", "It's"})

#: A title: capitalised words, allowing small joining words ("The Lord of the Rings").
TITLE = r"((?:The |A |An )?[A-Z][\w'-]+(?: (?:(?:of|the|and|in|on|a|to|for) )*[A-Z][\w'-]+)*)"

#: Words that are no value on their own ("the", "my") and are no content word of one.
FILLER = frozenset("a an the my of to in at on for and or is are am be i me".split())

#: Words of doubt or of a time to come: such a sentence is a plan or a wish, which the model would state as a fact.
NOT_YET = re.compile(
    r"\b(maybe|perhaps|might|probably|possibly|someday|one day|thinking (?:about|of)|considering|wondering|hoping|planning|"
    r"going to|gonna|will|'ll|next (?:week|month|year)|tomorrow|soon|getting)\b",
    re.I,
)

#: A one-word name (the changes: "Bento passed away", "I rehomed Mochi").
ONE_NAME = r"((?-i:[A-Z][\w'-]+))"
#: Workplaces named by kind, not by name ("I left the hospital"): an ending of whatever employer is current.
WORKPLACES = "hospital|company|firm|office|school|clinic|agency|bank|shop|store|restaurant|cafe|café|pub|bar|hotel|pharmacy|warehouse|factory|nursery|supermarket|call centre|salon|gym|practice|surgery|garage"
#: Verbs of pastimes an ending may name ("I don't swim any more"): the profile's pastime verbs, and a few that take an
#: object ("I no longer play guitar").
PASTIME_VERBS = "|".join(sorted(set(PASTIMES) | {"play", "cook", "write", "box"}, key=lambda v: (-len(v), v)))


def listed_names(names: str) -> list[str]:
    """The capitalised names of a list ("Luna, Nico and Pipoca")."""
    return [n for n in re.findall(r"(?-i:[A-Z][\w'-]+)", names) if n not in NOT_NAMES]


def may_be_name(words: str) -> bool:
    """Whether capitalised words after "I'm" or a greeting may be a name: not a nationality, a mood or a title, and
    not opening with a pronoun or an article."""
    return not NOT_A_NAME.search(words) and words.split()[0] not in NOT_NAMES


def relation(word: str) -> str:
    """The attribute a relative is stored under: "Mum" -> "mother", "best friend" -> "best_friend"."""
    word = word.lower()
    return RELATION_WORDS.get(word, word).replace(" ", "_").replace("-", "_")


def with_article(noun: str) -> str:
    """"a nurse", "an engineer"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"
