"""Synthetic users for the grounding adapter (issue #38): who they are, what they said, what they are asked.

Each user is a handful of facts said across a few dated sessions (with small talk between them), some of which
change later (a move, a new job, a new manager), so that the later fact wins. Questions come in several phrasings,
with a one-sentence answer that uses the fact; questions about what the user never said get the don't-know
answer. Everything is drawn from a seeded ``random.Random``: the same seed gives the same users.

None of this is LoCoMo 5-9 or the frozen persona/absent/general sets of ``bench/data``, which judge the adapter.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

DONT_KNOW = "I don't know — you haven't told me {what}."

FIRST = ["Marta", "Tomas", "Aiko", "Ravi", "Sofia", "Lukas", "Amara", "Jonas", "Priya", "Mateo", "Elif", "Oskar",
         "Nadia", "Felix", "Yara", "Hugo", "Leila", "Bram", "Chloe", "Dmitri", "Ingrid", "Kofi", "Mina", "Pablo",
         "Rosa", "Sven", "Tara", "Viktor", "Zoe", "Anton", "Beatriz", "Cyrus", "Dalia", "Emil", "Freya", "Gideon",
         "Hana", "Idris", "Julia", "Kenji", "Lena", "Milo", "Noor", "Otto", "Paula", "Quinn", "Rafael", "Selma"]
CITIES = ["Bergen", "Leeds", "Porto", "Lyon", "Krakow", "Utrecht", "Graz", "Turin", "Aarhus", "Seville", "Tampere",
          "Bristol", "Ghent", "Bologna", "Cork", "Brno", "Malmo", "Nantes", "Basel", "Valencia", "Edinburgh", "Riga",
          "Hamburg", "Lille", "Dresden", "Galway", "Bilbao", "Tallinn", "Zagreb", "Leipzig", "Oslo", "Vienna"]
JOBS = ["nurse", "marine biologist", "carpenter", "software engineer", "pharmacist", "architect", "librarian",
        "dentist", "electrician", "journalist", "physiotherapist", "accountant", "chef", "translator", "teacher",
        "veterinarian", "graphic designer", "bus driver", "lawyer", "geologist", "baker", "firefighter", "photographer"]
PETS = {"dog": ["border collie", "labrador", "beagle", "terrier", "greyhound", "spaniel"],
        "cat": ["tabby cat", "black cat", "Siamese cat", "Maine Coon"],
        "rabbit": ["grey rabbit", "lop-eared rabbit"], "parrot": ["green parrot", "African grey parrot"]}
PET_NAMES = ["Pepper", "Biscuit", "Luna", "Mochi", "Rufus", "Ziggy", "Olive", "Nemo", "Pixel", "Juniper", "Tofu",
             "Maple", "Sprout", "Comet", "Pickle", "Bruno", "Saffron", "Ginger", "Waffles", "Indigo"]
PEOPLE = ["Clara", "Daniel", "Ana", "Erik", "Fatima", "George", "Helena", "Ivan", "Joana", "Karim", "Lucia", "Marek",
          "Nina", "Omar", "Petra", "Rui", "Sara", "Tobias", "Ulla", "Vera", "Walter", "Ximena", "Yusuf", "Zara"]
DIETS = ["vegetarian", "vegan", "pescatarian"]
ALLERGENS = ["peanuts", "shellfish", "pollen", "penicillin", "gluten", "cats", "bee stings", "sesame"]
INSTRUMENTS = ["piano", "guitar", "violin", "cello", "drums", "saxophone", "bassoon", "flute", "trumpet", "harp"]
SPORTS = [("swimming", "go swimming"), ("climbing", "go climbing"), ("cycling", "go cycling"), ("tennis", "play tennis"),
          ("rowing", "go rowing"), ("yoga", "do yoga"), ("badminton", "play badminton"), ("running", "go running")]
BOOKS = ["Middlemarch", "The Hobbit", "Dune", "Beloved", "Circe", "Stoner", "Piranesi", "The Remains of the Day",
         "Rebecca", "Persuasion", "Klara and the Sun", "The Secret History"]
CARS = ["Volvo estate", "red Fiat Panda", "second-hand Toyota Corolla", "Renault Zoe", "blue Skoda Octavia", "VW Golf"]
FOODS = ["ramen", "paella", "lasagne", "dumplings", "pho", "risotto", "falafel", "tacos", "goulash", "sushi"]
COMPANIES = ["Nordlys Labs", "the city council", "Harbour Health", "Blue Fern Studio", "Oakridge Bank", "a small bakery",
             "the regional hospital", "Kestrel Logistics", "Greenline Energy", "the public library"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

REPLIES = ["Good to know.", "Thanks for telling me.", "That sounds lovely.", "Nice!", "Got it.", "How exciting!",
           "I'll remember that.", "That's great to hear."]
SMALL_TALK = [
    ("Can you suggest a quick dinner idea?", "A vegetable stir-fry with rice takes about twenty minutes."),
    ("I had a long day today.", "Sorry to hear that. I hope you can rest this evening."),
    ("What's a good way to fall asleep faster?", "Keep a regular bedtime and avoid screens for the last hour."),
    ("Any podcast recommendations?", "Try a history or science podcast with short episodes."),
    ("It's raining again here.", "A good day for a book and a hot drink."),
    ("How do I keep basil alive on a windowsill?", "Give it plenty of light and water it when the soil feels dry."),
    ("I'm thinking of repainting the kitchen.", "A light colour will make it feel bigger."),
    ("Tell me a fun fact.", "Octopuses have three hearts."),
    ("I'm trying to drink more water.", "Keeping a bottle on your desk helps."),
    ("What should I pack for a weekend away?", "Comfortable shoes, a warm layer and a charger."),
]

#: Questions about things no user here ever says: always answered with the don't-know answer. Their phrasings are
#: not those of bench/data/absent_answers.json (which judges the adapter).
NEVER_SAID = [
    ("What is my shoe size?", "your shoe size"), ("What's my grandmother's name?", "your grandmother's name"),
    ("Which school did I go to as a child?", "which school you went to"), ("What is my favourite season?", "your favourite season"),
    ("What's my middle name?", "your middle name"), ("How tall am I?", "how tall you are"),
    ("What is my cousin called?", "about a cousin"), ("Which board game do I like best?", "which board game you like"),
    ("What is my wedding anniversary?", "your wedding anniversary"), ("What's the name of my street?", "the name of your street"),
    ("What's my favourite band?", "your favourite band"), ("Which newspaper do I read?", "which newspaper you read"),
]

#: More never-said questions, for ``--favourites``: "favourite …" questions are most of what a recipe still invented
#: ("What is my favourite film?" -> "The Shawshank Redemption"), since many users do say their favourite food. Not
#: the film, colour or football team of bench/data/absent_answers.json, nor food or sport, which users here say.
FAVOURITES = [
    ("What is my favourite drink?", "your favourite drink"), ("Which TV series do I like best?", "which TV series you like"),
    ("What is my favourite flower?", "your favourite flower"), ("What's my favourite animal?", "your favourite animal"),
    ("Who is my favourite singer?", "who your favourite singer is"), ("What is my favourite dessert?", "your favourite dessert"),
    ("Who is my favourite author?", "who your favourite author is"), ("What's my favourite city to visit?", "your favourite city"),
    ("Which painter do I like most?", "which painter you like"), ("What is my favourite holiday destination?", "where you like to go on holiday"),
    ("What's my favourite restaurant?", "your favourite restaurant"), ("Which podcast do I like best?", "which podcast you like"),
    ("What is my favourite game?", "your favourite game"), ("What is my favourite song?", "your favourite song"),
]

#: Ordinary requests with no memory involved (none of them in bench/data/general_questions.json). The answer is the
#: base model's own, made by grounding_adapter.py: the adapter learns to leave them as they were.
GENERAL = [
    "What is the capital of Spain?", "What is the capital of Germany?", "How do I boil an egg?",
    "Write a haiku about autumn.", "Translate 'good morning' into French.", "What is photosynthesis?",
    "Give me three tips for a job interview.", "What is a prime number?", "How many continents are there?",
    "Explain what a noun is.", "What is the speed of light?", "Suggest a name for a bakery.",
    "How do I make a cup of tea?", "What causes rain?", "Who painted the Mona Lisa?", "What is 12 times 12?",
    "What is the largest desert in the world?", "Give me a simple pancake recipe.", "What does DNA stand for?",
    "How many hours are there in a day?", "Name three primary colours.", "What is the capital of Canada?",
    "Why is the sea salty?", "Write one sentence about the moon.", "What is the square root of 81?",
    "How do I say thank you in Spanish?", "What is gravity?", "Give me a short motivational quote.",
    "What planet is known as the Red Planet?", "What is the main ingredient of guacamole?",
]
#: More of them, for ``--general``: a recipe taught the don't-know answer on a few hundred questions and only 30
#: ordinary ones refused a quarter of the general set ("Who wrote Romeo and Juliet?" -> "I don't know — you haven't
#: told me …").
MORE_GENERAL = [
    "Who wrote Pride and Prejudice?", "What is the capital of Portugal?", "How many sides does a hexagon have?",
    "Which planet is closest to the Sun?", "What language is spoken in Mexico?", "How many weeks are there in a year?",
    "What is 7 plus 5?", "What colour are ripe bananas?", "What is the chemical symbol for gold?",
    "Who discovered penicillin?", "What is the capital of Australia?", "How many legs does an insect have?",
    "What do caterpillars turn into?", "What is the opposite of up?", "How many seconds are there in a minute?",
    "What is the longest river in Africa?", "Which animal says moo?", "Who was the first person to walk on the Moon?",
    "What is the hardest natural substance?", "What is the capital of Norway?", "What is 10 minus 3?",
    "What is the largest mammal?", "What colour do you get by mixing blue and yellow?",
    "Which organ pumps blood through the body?", "Who invented the telephone?", "What is the currency of Japan?",
    "How many days are there in a leap year?", "What is the capital of Egypt?", "Which continent is Kenya in?",
    "What do pandas mainly eat?", "What is frozen water called?", "How many strings does a standard guitar have?",
    "Explain what a verb is.", "Give me a tip for staying focused.", "Write a short poem about the sea.",
    "How do I make toast?", "Suggest a name for a cat.", "What is the plural of mouse?",
    "Translate 'thank you' into German.", "What is a synonym for happy?", "Describe a volcano in one sentence.",
    "What is the capital of Greece?", "Which metal is liquid at room temperature?", "How many hours are there in a week?",
    "Who painted The Starry Night?", "What is the smallest prime number?", "Which sea creature has eight arms?",
    "What is the capital of Ireland?",
]


@dataclass
class Ask:
    question: str
    answer: str
    kind: str
    """``present``, ``update`` (the later fact wins), ``absent``, ``statement`` (something new told) or ``general``."""


@dataclass
class User:
    name: str
    sessions: list[dict[str, Any]] = field(default_factory=list)
    asks: list[Ask] = field(default_factory=list)

    def generic(self) -> dict[str, Any]:
        return {"sessions": self.sessions}


def _facts(rng: random.Random, name: str) -> dict[str, tuple[list[str], list[tuple[str, str]], str]]:
    """kind -> (ways the user says it, (question, answer) pairs, what a don't-know says is missing)."""
    city, job, company = rng.choice(CITIES), rng.choice(JOBS), rng.choice(COMPANIES)
    species = rng.choice(list(PETS))
    breed, pet = rng.choice(PETS[species]), rng.choice(PET_NAMES)
    rel, sib, sibjob = rng.choice(["sister", "brother"]), rng.choice(PEOPLE), rng.choice(JOBS)
    prel, partner = rng.choice(["wife", "husband", "partner", "girlfriend", "boyfriend"]), rng.choice(PEOPLE)
    diet, allergen, instrument = rng.choice(DIETS), rng.choice(ALLERGENS), rng.choice(INSTRUMENTS)
    sport, sport_verb = rng.choice(SPORTS)
    book, car, food, manager = rng.choice(BOOKS), rng.choice(CARS), rng.choice(FOODS), rng.choice(PEOPLE)
    day, month = rng.randint(1, 28), rng.choice(MONTHS)
    a = "an" if job[0] in "aeiou" else "a"
    return {
        "name": ([f"Hi, I'm {name}.", f"My name is {name}, by the way.", f"Hello! {name} here."],
                 [("What is my name?", f"Your name is {name}."), ("What's my name?", f"You're {name}."),
                  ("Do you remember my name?", f"Yes, your name is {name}.")], "your name"),
        "city": ([f"I live in {city}.", f"I've been living in {city} for {rng.randint(2, 15)} years now.",
                  f"Greetings from {city}, where I live."],
                 [("Where do I live?", f"You live in {city}."), ("Which city do I live in?", f"You live in {city}."),
                  ("What city am I based in?", f"You're based in {city}.")], "where you live"),
        "job": ([f"I work as {a} {job}.", f"I'm {a} {job} by profession.", f"I've worked as {a} {job} for years."],
                [("What is my job?", f"You work as {a} {job}."), ("What do I do for work?", f"You're {a} {job}."),
                 ("What's my profession?", f"You're {a} {job}.")], "what you do for work"),
        "employer": ([f"I work at {company}.", f"My office is at {company}."],
                     [("Where do I work?", f"You work at {company}."), ("Which company do I work for?", f"You work at {company}.")],
                     "where you work"),
        "pet": ([f"I have {_a(breed)} {breed} called {pet}.", f"I adopted {_a(breed)} {breed} named {pet}.", f"My {species} {pet} is {rng.randint(1, 12)} years old."],
                [(f"What is my {species}'s name?", f"Your {species} is called {pet}."),
                 (f"What's my {species} called?", f"Your {species} is called {pet}."),
                 ("Do I have any pets?", f"Yes, a {species} called {pet}.")], f"about a {species}"),
        "sibling": ([f"My {rel} {sib} is {'an' if sibjob[0] in 'aeiou' else 'a'} {sibjob}.", f"My {rel} is called {sib}."],
                    [(f"What is my {rel}'s name?", f"Your {rel} is called {sib}."),
                     (f"What's my {rel} called?", f"Your {rel} is called {sib}.")], f"about a {rel}"),
        "partner": ([f"I live with my {prel}, {partner}.", f"My {prel} {partner} is away this week."],
                    [(f"What is my {prel}'s name?", f"Your {prel} is called {partner}."),
                     (f"Who is my {prel}?", f"Your {prel} is {partner}.")], f"about a {prel}"),
        "diet": ([f"I'm {diet}.", f"I've been {diet} for {rng.randint(2, 10)} years."],
                 [("What is my diet?", f"You are {diet}."), ("What kind of diet do I follow?", f"You are {diet}.")],
                 "about your diet"),
        "allergy": ([f"I'm allergic to {allergen}.", f"I have an allergy to {allergen}."],
                    [("What am I allergic to?", f"You are allergic to {allergen}."),
                     ("Do I have any allergies?", f"Yes, you are allergic to {allergen}.")], "about any allergies"),
        "instrument": ([f"I play the {instrument}.", f"I've been playing the {instrument} since school."],
                       [("What instrument do I play?", f"You play the {instrument}."),
                        ("Which instrument do I play?", f"You play the {instrument}.")], "about an instrument"),
        "sport": ([f"I {sport_verb} every weekend.", f"My favourite sport is {sport}."],
                  [("What sport do I do?", f"You {sport_verb}."), ("What do I do for exercise?", f"You {sport_verb}.")],
                  "about a sport"),
        "book": ([f"I'm reading {book} at the moment.", f"I just started reading {book}."],
                 [("What book am I reading?", f"You are reading {book}."),
                  ("Which book am I reading at the moment?", f"You are reading {book}.")], "what you are reading"),
        "birthday": ([f"My birthday is on {day} {month}.", f"I was born on {day} {month}."],
                     [("When is my birthday?", f"Your birthday is on {day} {month}.")], "your birthday"),
        "car": ([f"I drive a {car}."], [("What car do I drive?", f"You drive a {car}.")], "what car you drive"),
        "food": ([f"My favourite food is {food}.", f"I could eat {food} every day."],
                 [("What is my favourite food?", f"Your favourite food is {food}."),
                  ("What's my favourite dish?", f"Your favourite food is {food}.")], "your favourite food"),
        "manager": ([f"My manager is called {manager}.", f"My boss, {manager}, is very kind."],
                    [("Who is my manager?", f"Your manager is {manager}."), ("What's my manager's name?", f"Your manager is {manager}.")],
                    "who your manager is"),
    }


def _changes(rng: random.Random, facts: dict[str, Any], chosen: list[str], name: str) -> list[tuple[str, list[Ask]]]:
    """Later messages that change a fact the user gave, with the questions whose answer is now the new one."""
    out: list[tuple[str, list[Ask]]] = []
    said = {k: facts[k][1][0][1] for k in chosen}
    if "city" in chosen:
        old = said["city"].removeprefix("You live in ").rstrip(".")
        new = rng.choice([c for c in CITIES if c != old])
        line = rng.choice([f"We moved from {old} to {new} last month.", f"I've moved to {new} now.",
                           f"Big news: I left {old}, I live in {new} now."])
        out.append((line, [Ask("Where do I live now?", f"You live in {new} now.", "update"),
                           Ask("Which city do I live in?", f"You live in {new}.", "update"),
                           Ask("Where did I live before?", f"You lived in {old} before.", "update")]))
    if "job" in chosen:
        old = said["job"].removeprefix("You work as ").rstrip(".")
        new = rng.choice([j for j in JOBS if j not in old])
        a = "an" if new[0] in "aeiou" else "a"
        line = rng.choice([f"I quit my job as {old}, I'm {a} {new} now.", f"I started a new job as {a} {new}.",
                           f"I'm not {old} anymore: I work as {a} {new} now."])
        out.append((line, [Ask("What do I do for work now?", f"You work as {a} {new} now.", "update"),
                           Ask("What is my job?", f"You work as {a} {new}.", "update")]))
    if "manager" in chosen:
        old = said["manager"].removeprefix("Your manager is ").rstrip(".")
        new = rng.choice([p for p in PEOPLE if p != old])
        out.append((f"{old} left the company, my manager is now {new}.",
                    [Ask("Who is my manager now?", f"Your manager is {new} now.", "update"),
                     Ask("Who was my manager before?", f"Your manager was {old} before.", "update")]))
    return out


ACKNOWLEDGE = ["Got it — {}", "Thanks, I'll remember that: {}", "Noted — {}"]
"""How a statement of something new is answered: it is restated, so the model learns to take it in, not to say
it was never told (the recipe with near misses alone answered "I have a border collie called Pepper." with "I don't
know — you haven't told me about a border collie.")."""


def make_user(rng: random.Random, start: datetime, *, near: bool = False, counterparts: bool = False,
              statements: bool = False) -> User:
    name = rng.choice(FIRST)
    facts = _facts(rng, name)
    kinds = [k for k in facts if k != "name"]
    chosen = ["name", *rng.sample(kinds, rng.randint(5, 9))]
    changes = _changes(rng, facts, chosen, name) if rng.random() < 0.6 else []
    changes = rng.sample(changes, min(len(changes), rng.randint(1, 2))) if changes else []
    lines = [rng.choice(facts[k][0]) for k in chosen]
    # "Hi, I'm X" opens the first session; the rest of the facts and small talk in a shuffled order.
    rest = lines[1:] + [t for t, _ in rng.sample(SMALL_TALK, rng.randint(2, 5))]
    rng.shuffle(rest)
    said = [lines[0], *rest]
    small = dict(SMALL_TALK)
    user = User(name)
    when = start
    n_sessions = rng.randint(2, 4)
    per = max(1, len(said) // n_sessions)
    chunks = [said[i : i + per] for i in range(0, len(said), per)]
    chunks += [[line] for line, _ in changes]  # a change comes after everything it changes
    for n, chunk in enumerate(chunks):
        when += timedelta(days=rng.randint(5, 60), hours=rng.randint(0, 10))
        turns = []
        for line in chunk:
            turns += [{"role": "user", "content": line}, {"role": "assistant", "content": small.get(line, rng.choice(REPLIES))}]
        user.sessions.append({"id": f"{name.lower()}-{start:%Y%m%d}-{n}", "title": f"session {n + 1}",
                              "started_at": when.isoformat(), "turns": turns})
    changed_kinds = {kind_of_change(line) for line, _ in changes}
    for k in chosen:
        if k in changed_kinds:
            continue  # asked by the change's own questions, with the new answer
        pairs = facts[k][1]
        user.asks += [Ask(q, a, "present") for q, a in rng.sample(pairs, min(len(pairs), 2))]
    for _, asks in changes:
        user.asks += asks
    missing = [k for k in kinds if k not in chosen]
    unasked = rng.sample(missing, min(len(missing), 2))
    for k in unasked:
        question, _ = rng.choice(facts[k][1])
        if k == "pet":  # the user has no pet of this kind: ask about one
            question = rng.choice([f"What is my {facts[k][2].split()[-1]}'s name?", "Do I have any pets?"])
        user.asks.append(Ask(question, DONT_KNOW.format(what=facts[k][2] if question != "Do I have any pets?" else "about any pets"), "absent"))
    if near:
        user.asks += near_misses(rng, facts, chosen, counterparts=counterparts)
    question, what = rng.choice(NEVER_SAID)
    user.asks.append(Ask(question, DONT_KNOW.format(what=what), "absent"))
    if statements and (new := [k for k in missing if k not in unasked]):
        k = rng.choice(new)
        told = facts[k][1][0][1]
        user.asks.append(Ask(rng.choice(facts[k][0]), rng.choice(ACKNOWLEDGE).format(told[0].lower() + told[1:]), "statement"))
    return user


def near_misses(rng: random.Random, facts: dict[str, Any], chosen: list[str], *, counterparts: bool = False) -> list[Ask]:
    """Questions one step from what the user did say: the dog's name of a user who has a cat, the brother of a
    user who told of a sister. A model that answers them with the cat's name has matched the question's shape, not
    its meaning. ``counterparts``: each beside its positive counterpart (the cat's name, the sister), asked by the
    species whatever breed was said (tried: it undid what the near misses taught; bench/README)."""
    out: list[Ask] = []
    if "pet" in chosen:
        have = facts["pet"][2].split()[-1]
        other = rng.choice([s for s in PETS if s != have])
        question = rng.choice([f"Remind me what my {other} is called.", f"Do you know my {other}'s name?"])
        out.append(Ask(question, DONT_KNOW.format(what=f"about a {other}"), "absent"))
        if counterparts:
            answer = facts["pet"][1][0][1]
            out.append(Ask(rng.choice([f"Remind me what my {have} is called.", f"Do you know my {have}'s name?"]), answer, "present"))
    if "sibling" in chosen:
        have = facts["sibling"][2].split()[-1]
        other = "brother" if have == "sister" else "sister"
        out.append(Ask(f"Remind me what my {other} is called.", DONT_KNOW.format(what=f"about a {other}"), "absent"))
        if counterparts:
            out.append(Ask(f"Remind me what my {have} is called.", facts["sibling"][1][0][1], "present"))
    if "job" in chosen and "employer" not in chosen:
        out.append(Ask("Which company do I work for?", DONT_KNOW.format(what="where you work"), "absent"))
    if "city" in chosen and rng.random() < 0.5:
        out.append(Ask("In which town did I grow up?", DONT_KNOW.format(what="where you grew up"), "absent"))
    return out


def kind_of_change(line: str) -> str:
    if "moved" in line or "live in" in line:
        return "city"
    if "manager" in line:
        return "manager"
    return "job"


def users(n: int, seed: int, *, near: bool = False, counterparts: bool = False, statements: bool = False,
          favourites: int = 0) -> list[User]:
    """``near``: also the near-miss questions (``near_misses``); ``statements``: also one new fact told, answered by
    restating it (``ACKNOWLEDGE``); ``favourites``: also that many never-said "favourite …" questions (``FAVOURITES``,
    drawn from a random stream of their own, so the users are otherwise the same)."""
    rng, extra = random.Random(seed), random.Random(seed + 1)
    start = datetime(2024, 1, 8, 9, 0, tzinfo=timezone.utc)
    made = [make_user(rng, start + timedelta(days=rng.randint(0, 300)), near=near, counterparts=counterparts, statements=statements)
            for _ in range(n)]
    for user in made:
        user.asks += [Ask(q, DONT_KNOW.format(what=what), "absent") for q, what in extra.sample(FAVOURITES, favourites)]
    return made


def _a(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"
