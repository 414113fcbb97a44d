"""Regular-expression pieces both extractors use (``extract`` for facts, ``transitions`` for changes of them), so
a pet, a place or a month is the same thing to both."""

from __future__ import annotations

#: Animals people keep, as an alternation (no group: callers wrap it).
PETS = "dog|cat|puppy|kitten|rabbit|bunny|hamster|parrot|budgie|canary|horse|pony|fish|tortoise|turtle|guinea pig|ferret|gecko|lizard|snake|chickens|goat|pet"
#: Businesses a person runs, owns or sells, as an alternation (no group: callers wrap it).
BUSINESSES = "bakery|business|shop|café|cafe|restaurant|company|studio|bar|salon|agency|farm|clinic|store|startup|practice|bookshop|gym"
#: A place: capitalised words, with the small joining words of place names ("Rio de Janeiro"). One group.
PLACE = r"((?-i:[A-Z][\w'.-]+(?: (?:(?:de|del|la|le|van|von|der|am) )?[A-Z][\w'.-]+){0,3}))"
#: An employer or school: capitalised words ("Fokker Labs", "H&M"). One group.
ORG = r"((?-i:[A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,3}))"
#: Capitalised words that follow "at"/"in"/"to" but are times, not places or employers.
WHEN_WORDS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Christmas|Easter)"
)
