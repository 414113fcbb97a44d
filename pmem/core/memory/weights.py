"""How retrieval weighs its signals: the share of dense and lexical scores in the fusion, the session prior, the
candidate pools, chosen by measurement for each kind of embedder (bench/README.md)."""

from __future__ import annotations

from dataclasses import dataclass

from pmem.core.memory.embedder import Embedder
from pmem.core.memory.query_adapter import QueryAdapter


@dataclass
class Weights:
    """The fusion's constants. Tuned on LoCoMo conversations 0–4 only; conversations 5–9 are the report."""

    dense: float = 0.4
    lexical: float = 0.6
    """Shares of the normalised dense similarity and BM25 in a turn's score. 0.4/0.6 with the query adapter (chosen
    on 0-4 with adapters trained on the other conversations; bench/results/locomo_query_adapter.json); without one
    (``WEIGHTS_WITHOUT_ADAPTER``) 0.3/0.7 was best."""
    query_adapter: bool = True
    """Map the question's vector through the query adapter, where there is one for the embedder."""
    neighbour_lexical: float = 0.25
    """Share of a neighbouring turn's BM25 in a turn's lexical score."""
    session_prior: float = 0.5
    """Share of the best score in a turn's session added to the turn's own."""
    recency: float = 0.002
    date: float = 0.3
    """Added to a turn said within a time the question names ("in May 2023", "last week"; ``when.py``). Chosen on
    conversations 0-4 (0.1-1.0 measured; bench/results/locomo_dates.json)."""
    candidates: int = 100
    """Turns taken from each retriever before fusion."""
    dense_candidates: int | None = None
    """Turns taken from dense search, where it differs from ``candidates``."""
    speaker: float = 0.2
    """Added to a turn said by whom the question is about: the user's own turns for "I/my/me", a named speaker's
    turns (an imported "Name: ..." turn) for a question that names them. Chosen on conversations 0-4 (0.1-0.5
    measured: 0.1 +1.0, 0.2 +1.6, 0.3 +1.4, 0.5 +1.7 points strict R@10, but 0.5 costs 1.4 points published-style)."""
    diversity: float = 0.0
    """Taken off an episode's score for each better episode already chosen from its session (MMR-like). Off: on
    conversations 0-4, 0.05 gave +0.7 points strict R@10 (multi-hop +5, single-hop -0.7), 0.1 and more lost."""
    fusion: str = "score"
    """"score" (min-max normalised scores) or "rrf" (reciprocal rank, as before 0.2; kept for the ablation)."""
    current: float = 1.2
    """For a question about the user's present ("Where do I live now?", "What car do I have?"): added to an episode
    in proportion to how late it was said among the best ``CURRENT_POOL`` (the newest gets all of it), so that of two
    memories of the same thing the later one wins. Measured on the currency set (bench/currency_retrieval.py)."""
    superseded: float = 0.3
    """For such a question: taken off an episode that taught a profile fact the profile has since superseded."""
    later: float = 0.01
    """For a question about the user that neither asks how things were before ("How many postcards have I added?",
    not "What was my previous status?") nor names a time ("in March", which ``date`` answers): of two of the best
    episodes on one subject (``same_subject``), the later said is placed this far above the earlier (0: off). Measured on LongMemEval's knowledge-update questions
    (bench/longmemeval_retrieval.py)."""
    same_subject: float = 0.35
    """Cosine of two episodes' turns above which they are taken to be about one subject."""
    later_share: float = 0.3
    """The later episode moves up only if its own score is at least this share of the earlier's: a memory that
    barely matches is not an update of one that does (in a store of a few short exchanges, their shared context
    alone brings two turns' vectors over ``same_subject``). Chosen on the tune halves: 0.3 the largest value best
    on both the currency set's users 0-2 (0.4 loses two questions) and LongMemEval (0.0-0.5 score alike)."""

    @property
    def dense_count(self) -> int:
        """Turns taken from dense search: ``dense_candidates`` where set, else ``candidates``."""
        return self.dense_candidates or self.candidates


WEIGHTS = Weights()
WEIGHTS_WITHOUT_ADAPTER = Weights(dense=0.3, lexical=0.7, query_adapter=False)
"""For an embedder with no query adapter (a configured one), or with ``memory.query_adapter`` off."""
WEIGHTS_TUNED = Weights(dense=0.6, lexical=0.4, query_adapter=False, dense_candidates=300)
"""For the packaged embedder with pmem's retrieval tuning (``tuning.py``), whose dense similarity is worth more:
chosen on LoCoMo conversations 3-4 with the tuning taught on 0-2 (bench/results/locomo_embedder_tuning.json). The
300 dense candidates were chosen there too, with each of three tunings taught on 0-2 (different seeds): all the
evidence for 2-5 more questions of 377 than with 100; 300 BM25 candidates added nothing (bench/README.md)."""


def weights_for(embedder: Embedder, query_adapter: QueryAdapter | None) -> Weights:
    if embedder.tuning is not None:
        return WEIGHTS_TUNED
    return WEIGHTS if query_adapter is not None else WEIGHTS_WITHOUT_ADAPTER
