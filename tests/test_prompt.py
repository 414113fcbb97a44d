"""The prompt builder's wording: who said what and when, in the order the framing asks, without breaking KV reuse."""

from __future__ import annotations

from pmem.core.profile.model import second_person
from dataclasses import replace

from pmem.core.prompt import (
    DEFAULT_FRAMING, TRANSCRIPT_FRAMING, MemorySnippet, build_prompt, format_memories, long_date, ordered,
)

YOU = replace(DEFAULT_FRAMING, focus=0, best_last=False)


def _snippet(n: int, user: str, reply: str, date: str = "2023-05-08T13:56:00+00:00") -> MemorySnippet:
    return MemorySnippet(f"m-{n}", date, f"User: {user}\nAssistant: {reply}", (("user", user), ("assistant", reply)))


def test_profile_facts_are_said_to_the_user() -> None:
    assert second_person("lives in Utrecht", "location", "city") == "You live in Utrecht"
    assert second_person("is vegetarian", "health", "diet") == "You are vegetarian"
    assert second_person("has a cat called Mochi", "pets", "cat") == "You have a cat called Mochi"
    assert second_person("sister: Clara, a firefighter", "people", "sister") == "Your sister is Clara, a firefighter"
    assert second_person("favourite colour is teal", "preferences", "favourite_colour") == "Your favourite colour is teal"
    assert second_person("Call me after 6pm on Fridays", "other", "note") == "Call me after 6pm on Fridays"


def test_memories_say_who_said_what_and_when() -> None:
    framing = YOU
    block = format_memories([_snippet(1, "I adopted a cat, her name is Mochi.", 'What a "lovely" name.')], framing=framing)
    assert block.splitlines() == [
        framing.memory_intro,
        'On 8 May 2023 you said: "I adopted a cat, her name is Mochi."',
        "I replied: \"What a 'lovely' name.\"",
    ]
    assert long_date("2025-03-01T00:00:00+00:00") == "1 March 2025"
    assert long_date("not a date") == "not a date"


def test_a_long_exchange_is_cut_but_a_short_turn_leaves_its_share_to_the_other() -> None:
    framing = YOU
    long_reply = "word " * 200
    block = format_memories([_snippet(1, "Short question?", long_reply)], max_chars=200, framing=framing)
    user_line, reply_line = block.splitlines()[1:]
    assert user_line.endswith('"Short question?"')
    assert reply_line.endswith('…"') and 150 < len(reply_line) < 220


def test_the_turn_that_matched_is_quoted_whole_and_the_other_only_as_context() -> None:
    reply = "I remember that you told me about the shelter and the cat, and I said the name sounded lovely and kind."
    m = MemorySnippet("m-1", "2025-04-05T10:00:00+00:00", "", (("user", "Any news?"), ("assistant", reply)), matched=(1,))
    lines = format_memories([m], max_chars=320).splitlines()
    assert lines[2] == f'I replied: "{reply}"'
    m = replace(m, matched=(0,))
    lines = format_memories([m], max_chars=320).splitlines()
    assert lines[1] == 'On 5 April 2025 you said: "Any news?"' and lines[2].endswith('…"') and len(lines[2]) < 80


def test_best_last_keeps_the_cached_memories_ahead() -> None:
    last = DEFAULT_FRAMING
    mems = [_snippet(n, f"fact {n}", "ok") for n in range(5)]
    # Nothing cached: the most relevant (first found) goes nearest the question.
    assert [m.id for m in ordered(mems, last)] == ["m-4", "m-3", "m-2", "m-1", "m-0"]
    # Two were anticipated (already in the KV cache): they stay in front, so the cached prefix still matches.
    assert [m.id for m in ordered(mems, last, held=2)] == ["m-1", "m-0", "m-4", "m-3", "m-2"]
    assert [m.id for m in ordered(mems, TRANSCRIPT_FRAMING, held=2)] == [m.id for m in mems]


def test_the_system_and_profile_stay_first_and_the_question_last() -> None:
    for framing in (DEFAULT_FRAMING, TRANSCRIPT_FRAMING, YOU):
        prompt = build_prompt(
            system_text="You are pmem.", profile_block="- You live in Ghent", history=[], user_text="Where do I live?",
            memories=[_snippet(1, "I moved to Ghent.", "Nice.")], budget=4000,
            count=lambda msgs: sum(len(m["content"]) for m in msgs) // 4, framing=framing,
        )
        system, user = prompt.messages[0]["content"], prompt.messages[-1]["content"]
        assert system.startswith("You are pmem.") and "- You live in Ghent" in system
        assert user.endswith("Where do I live?") and "I moved to Ghent." in user


def test_the_compact_form_keeps_the_matched_turn_around_what_the_message_asks() -> None:
    from pmem.core.prompt import build_prompt, focused

    story = ("We drove up on Friday. The weather was awful on Saturday. "
             "My sister Clara finally showed us her new pottery studio in Ghent. We ate waffles after.")
    cut = focused(story, "Where is Clara's pottery studio?", 90)
    assert "pottery studio in Ghent" in cut and len(cut) <= 96 and cut.startswith("… ")
    assert focused("Short turn.", "anything", 90) == "Short turn."

    held = MemorySnippet("m-1", "2024-03-01T10:00:00+00:00", "", (("user", "Hello " * 30), ("assistant", "Hi " * 30)), matched=(0,))
    fresh = MemorySnippet("m-2", "2024-05-01T10:00:00+00:00", "", (("user", story), ("assistant", "How lovely!")), matched=(0,))

    def block(fresh_chars: int) -> str:
        prompt = build_prompt(system_text="sys", profile_block="", history=[], user_text="Where is Clara's pottery studio?",
                              memories=[held, fresh], budget=4000, count=lambda m: sum(len(x["content"]) for x in m) // 4,
                              held=1, fresh_chars=fresh_chars)
        return prompt.messages[-1]["content"]

    full, compact = block(0), block(90)
    assert "How lovely!" in full and "How lovely!" not in compact, "the fresh memory is only its matched turn"
    assert "pottery studio in Ghent" in compact and "We drove up on Friday" not in compact
    assert compact.count("Hello") == full.count("Hello") and "Hi Hi" in compact, "a memory already in the cache keeps its form"
    assert len(compact) < len(full)
