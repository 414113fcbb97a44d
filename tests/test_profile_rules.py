"""Every profile rule reads its examples and leaves its counterexamples alone, through the real engine (the message
split into sentences, each read whole, in the simple past and by clause), with no other rule beside it."""

from __future__ import annotations

import pytest

from pmem.core.profile.extract import rule_candidates
from pmem.core.profile.rules import (
    BY_NAME,
    MESSAGE_RULES,
    ORDER,
    SENTENCE_RULES,
    MessageRule,
    Rule,
)
from pmem.core.profile.rules.engine import read_message

ALL: list[Rule | MessageRule] = [*SENTENCE_RULES, *MESSAGE_RULES]


def _alone(rule: Rule | MessageRule, text: str) -> list[tuple[str, str, str, str]]:
    found = read_message(text, (rule,), ()) if isinstance(rule, Rule) else read_message(text, (), (rule,))
    return [(c.kind, c.category, c.attribute, c.value) for c in found]


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.name)
def test_rule_reads_its_examples_and_not_its_counterexamples(rule: Rule | MessageRule) -> None:
    assert rule.examples and rule.counterexamples, "every rule shows at least one example and one counterexample"
    for example in rule.examples:
        emitted = _alone(rule, example)
        assert emitted, f"{rule.name} read nothing in its example {example!r}"
    for counter in rule.counterexamples:
        assert _alone(rule, counter) == [], f"{rule.name} read something in its counterexample {counter!r}"


def test_the_order_names_every_rule_once() -> None:
    assert len(ORDER) == len(set(ORDER)) == len(BY_NAME)
    assert {r.unless for r in SENTENCE_RULES if r.unless} <= set(BY_NAME)
    # an "else" comes right after the rule it is the else of, so the first has always been tried
    for rule in SENTENCE_RULES:
        if rule.unless:
            assert ORDER.index(rule.unless) < ORDER.index(rule.name), rule.name


def test_all_rules_together_still_read_an_example_of_each_topic() -> None:
    found = {(c.category, c.attribute, c.value) for c in rule_candidates(
        "Hi, I'm Ines Duarte, a nurse in Porto. My sister Clara is a firefighter. I have a corgi named Waffles. "
        "I'm allergic to penicillin. I play the cello. Please keep answers short. I intend to walk the Dales Way.")}
    assert {("identity", "name", "Ines Duarte"), ("work", "job", "nurse"), ("location", "city", "Porto"),
            ("people", "sister", "Clara, a firefighter"), ("pets", "dog", "Waffles"), ("health", "allergy", "penicillin"),
            ("preferences", "hobby", "cello"), ("style", "reply_length", "short"), ("goals", "goal", "walk the Dales Way")} <= found
