"""Regular-expression pieces both extractors use (``extract`` for facts, ``transitions`` for changes of them), so
a pet, a place or a month is the same thing to both."""

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
