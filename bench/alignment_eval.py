"""What the preference stage adds: a synthetic user who likes answers one way, and says so only through feedback.

The user (the 16 facts and 20 exchanges of ``distill_eval.py``) asks 40 how-to questions; pmem's replies are
chatty paragraphs in imperial units with an emoji, and the user edits each into what they wanted: a short
bullet list in metric units, no emoji (``/edit``, journaled as feedback: 40 preference pairs). pmem distils two
adapters with its default settings: facts only (``distill.min_pairs`` out of reach) and facts + preferences
(the DPO stage). On 20 held-out questions (other topics, same styles):

- ``preference_accuracy``: how often the chosen answer is more likely than the rejected one, per answer token
  (about 0.5 for a model with no preference);
- ``style``: of the greedy answers with the plain system prompt, the share that are short (≤ 60 words), use a
  list, use no imperial unit and no emoji (and each check alone);
- ``fact_accuracy``: ``distill_eval.py``'s held-out fact questions, greedy, no retrieval: does the preference
  stage make the adapter forget facts?

    python -m bench.alignment_eval        # writes bench/results/alignment_eval.json
    python -m bench.alignment_eval --set distill.preference_replay=0 --out /tmp/no-replay.json   # a variant
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any
from bench.harness import RESULTS, fresh_home, machine, write_json
from bench.distill_eval import fill_user, greedy, mean_loglik

# (question, three steps, the one quantity in metric, the same in imperial). Steps hold "{q}" for the quantity.
TOPICS = [
    ("How do I boil pasta?", ["Bring {q} of water to the boil", "Add salt and the pasta", "Drain after the time on the packet"], "4 litres", "a gallon"),
    ("How do I start running?", ["Run {q} three times a week", "Walk when you need to", "Add a little each week"], "2 kilometres", "a mile and a quarter"),
    ("How do I hang a picture?", ["Mark the spot {q} above the sofa", "Drill and plug the wall", "Hang it on a screw"], "25 centimetres", "10 inches"),
    ("How do I bake bread?", ["Mix {q} of flour with water, yeast and salt", "Let it rise 2 hours", "Bake at 230 °C for 35 minutes"], "500 grams", "a pound"),
    ("How do I water tomatoes?", ["Give each plant {q} a day", "Water the soil, not the leaves", "Water in the morning"], "2 litres", "half a gallon"),
    ("How do I make rice?", ["Rinse {q} of rice", "Simmer it with twice the water", "Rest it 10 minutes covered"], "200 grams", "7 ounces"),
    ("How do I paint a wall?", ["Buy {q} of paint for a small room", "Tape the edges", "Roll two thin coats"], "5 litres", "a gallon and a half"),
    ("How do I cycle to work safely?", ["Keep {q} from parked cars", "Use lights after dark", "Signal every turn"], "1 metre", "3 feet"),
    ("How do I cook a steak?", ["Sear it {q} thick for 3 minutes a side", "Rest it 5 minutes", "Slice against the grain"], "3 centimetres", "an inch and a quarter"),
    ("How do I fill a paddling pool?", ["Fill it to {q} deep", "Check the water temperature", "Empty it after use"], "30 centimetres", "a foot"),
    ("How do I make lemonade?", ["Squeeze 6 lemons", "Mix with {q} of water", "Add sugar to taste"], "1.5 litres", "3 pints"),
    ("How do I plant tulips?", ["Plant the bulbs {q} deep", "Point the tips up", "Water them once"], "15 centimetres", "6 inches"),
    ("How do I stretch after a run?", ["Walk {q} to cool down", "Hold each stretch 30 seconds", "Drink water"], "500 metres", "a third of a mile"),
    ("How do I store potatoes?", ["Keep them in a dark place at {q}", "Do not wash them first", "Remove any that sprout"], "7 °C", "45 °F"),
    ("How do I make porridge?", ["Heat {q} of milk", "Stir in 50 grams of oats", "Simmer 5 minutes"], "250 millilitres", "a cup"),
    ("How do I move a sofa?", ["Measure the doors: you need {q}", "Take the legs off", "Tilt it through the door"], "80 centimetres", "32 inches"),
    ("How do I set up a fish tank?", ["Choose a tank of at least {q}", "Cycle the water for 4 weeks", "Add a few fish at a time"], "60 litres", "16 gallons"),
    ("How do I make a smoothie?", ["Blend {q} of berries", "Add a banana and yoghurt", "Blend until smooth"], "150 grams", "5 ounces"),
    ("How do I mow a lawn?", ["Set the blade to {q}", "Mow when the grass is dry", "Leave the clippings"], "5 centimetres", "2 inches"),
    ("How do I walk a puppy?", ["Walk {q} twice a day", "Use a short lead", "Reward calm walking"], "1 kilometre", "two thirds of a mile"),
    ("How do I make soup?", ["Fry an onion", "Add vegetables and {q} of stock", "Simmer 20 minutes and blend"], "1 litre", "a quart"),
    ("How do I build a raised bed?", ["Make the frame {q} high", "Line the base with cardboard", "Fill it with compost"], "40 centimetres", "16 inches"),
    ("How do I defrost a freezer?", ["Empty it and switch it off", "Put {q} of hot water inside", "Wipe it dry"], "2 litres", "half a gallon"),
    ("How do I pack for a hike?", ["Take {q} of water", "Pack a rain jacket", "Bring a map"], "2 litres", "64 ounces"),
    ("How do I roast vegetables?", ["Cut them into {q} pieces", "Toss with oil and salt", "Roast at 200 °C for 30 minutes"], "3 centimetre", "inch-and-a-quarter"),
    ("How do I put up a shelf?", ["Fix brackets every {q}", "Check it is level", "Screw the board on"], "60 centimetres", "2 feet"),
    ("How do I make pancakes?", ["Whisk {q} of flour, 2 eggs and milk", "Heat a buttered pan", "Cook each side 1 minute"], "100 grams", "3.5 ounces"),
    ("How do I swim laps?", ["Swim {q} to warm up", "Alternate strokes", "Rest 30 seconds between sets"], "200 metres", "220 yards"),
    ("How do I grow basil?", ["Sow the seeds {q} deep", "Keep it warm and sunny", "Pinch off the flowers"], "5 millimetres", "a quarter inch"),
    ("How do I wash wool?", ["Use water at {q}", "Squeeze, do not wring", "Dry it flat"], "30 °C", "86 °F"),
    ("How do I make iced coffee?", ["Brew {q} of strong coffee", "Cool it", "Pour it over ice"], "200 millilitres", "7 fluid ounces"),
    ("How do I train for a 10k?", ["Run {q} at an easy pace", "Do one faster run a week", "Rest the day before"], "5 kilometres", "3 miles"),
    ("How do I fix a dripping tap?", ["Turn off the water", "Replace the {q} washer", "Turn the water back on"], "12 millimetre", "half-inch"),
    ("How do I bathe a dog?", ["Use water at {q}", "Shampoo and rinse well", "Towel it dry"], "37 °C", "99 °F"),
    ("How do I make a compost heap?", ["Build it {q} wide", "Layer greens and browns", "Turn it every month"], "1 metre", "3 feet"),
    ("How do I freeze soup?", ["Cool it first", "Fill tubs leaving {q} at the top", "Label them"], "2 centimetres", "an inch"),
    ("How do I carry a heavy box?", ["Keep it within {q} of your body", "Bend your knees", "Lift with your legs"], "10 centimetres", "4 inches"),
    ("How do I steam broccoli?", ["Put {q} of water in a pan", "Steam the florets 5 minutes", "Season them"], "3 centimetres", "an inch"),
    ("How do I make hummus?", ["Blend {q} of chickpeas", "Add tahini, lemon and garlic", "Loosen with water"], "400 grams", "14 ounces"),
    ("How do I insulate a loft?", ["Lay insulation {q} thick", "Leave the eaves clear", "Board over the joists"], "27 centimetres", "11 inches"),
]
HELD_OUT = [
    ("How do I wash a car?", ["Rinse it with {q} of water", "Wash it with a soft mitt", "Dry it with a towel"], "10 litres", "2.5 gallons"),
    ("How do I plant a tree?", ["Dig a hole {q} wide", "Set the tree in", "Fill and water it"], "60 centimetres", "2 feet"),
    ("How do I iron trousers?", ["Set the iron to {q}", "Iron the legs flat", "Hang them up"], "150 °C", "300 °F"),
    ("How do I descale a kettle?", ["Boil {q} of half vinegar, half water", "Leave it an hour", "Rinse it twice"], "500 millilitres", "a pint"),
    ("How do I make a salad?", ["Wash {q} of leaves", "Add tomato and cucumber", "Dress it just before serving"], "100 grams", "3.5 ounces"),
    ("How do I walk a marathon?", ["Walk {q} a day in training", "Break in your shoes", "Eat on the way"], "10 kilometres", "6 miles"),
    ("How do I clean windows?", ["Mix {q} of warm water with a little vinegar", "Wipe top to bottom", "Dry with newspaper"], "1 litre", "a quart"),
    ("How do I cook lentils?", ["Rinse {q} of lentils", "Simmer 20 minutes", "Salt at the end"], "200 grams", "7 ounces"),
    ("How do I prune roses?", ["Cut {q} above a bud", "Remove dead stems", "Feed them afterwards"], "5 millimetres", "a quarter inch"),
    ("How do I warm up for football?", ["Jog {q}", "Do dynamic stretches", "Practise short passes"], "800 metres", "half a mile"),
    ("How do I make jam?", ["Boil {q} of fruit with the same of sugar", "Test a drop on a cold plate", "Pour into hot jars"], "1 kilogram", "2 pounds"),
    ("How do I set up a tent?", ["Pick flat ground {q} from water", "Peg the corners", "Fit the fly sheet"], "60 metres", "200 feet"),
    ("How do I cook an omelette?", ["Whisk 2 eggs", "Use a {q} pan", "Fold it when just set"], "20 centimetre", "8-inch"),
    ("How do I keep bees?", ["Place the hive {q} off the ground", "Check it every week in summer", "Leave them honey for winter"], "45 centimetres", "18 inches"),
    ("How do I thaw a chicken?", ["Thaw it in the fridge below {q}", "Allow a day per 2 kilograms", "Cook it within a day"], "5 °C", "41 °F"),
    ("How do I row a boat?", ["Sit facing the back", "Pull both oars {q} deep", "Keep a steady rhythm"], "20 centimetres", "8 inches"),
    ("How do I stack firewood?", ["Stack it {q} high at most", "Keep it off the ground", "Cover only the top"], "1.2 metres", "4 feet"),
    ("How do I make yoghurt?", ["Heat {q} of milk to 85 °C", "Cool it and add a spoon of yoghurt", "Keep it warm 8 hours"], "1 litre", "a quart"),
    ("How do I sand a floor?", ["Start with grit {q}", "Sand along the boards", "Vacuum between passes"], "40", "40"),
    ("How do I bleed a radiator?", ["Turn the heating off", "Open the valve a {q} turn", "Close it when water comes"], "quarter", "quarter"),
]
IMPERIAL = re.compile(r"\b(gallons?|quarts?|pints?|ounces?|pounds?|inch(es)?|inch-and|feet|foot|miles?|yards?|°F|fluid)\b", re.I)
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")
OPENERS = ["Great question! 😊", "Oh, I love this one! 🌟", "Happy to help! 👍", "What a fun thing to ask! 🎉"]


def chosen(steps: list[str], metric: str) -> str:
    return "\n".join(f"- {step.format(q=metric)}." for step in steps)


def rejected(steps: list[str], imperial: str, i: int) -> str:
    joined = ", and then ".join(step.format(q=imperial).lower() for step in steps)
    return (
        f"{OPENERS[i % len(OPENERS)]} There are honestly so many ways to go about this, and everyone has their own little "
        f"tricks, but the way I like to do it is to {joined}. It might take a couple of tries to get it just right, "
        f"but once you have done it a few times it really becomes second nature, and you will wonder why you ever worried!"
    )


def style(reply: str) -> dict[str, bool]:
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    return {
        "short": len(reply.split()) <= 60,
        "list": sum(1 for line in lines if re.match(r"^([-*•]|\d+[.)])\s", line)) >= 2,
        "metric": not IMPERIAL.search(reply),
        "no_emoji": not EMOJI.search(reply),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=RESULTS / "alignment_eval.json")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for the facts + preferences run, e.g. distill.preference_replay=0 (repeatable)")
    args = parser.parse_args()
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key.strip().replace(".", "__")] = json.loads(value)

    from pmem.core.config import with_overrides
    from pmem.core.distill.dataset import held_out_question
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.engine.llama_compat import import_llama_cpp
    from pmem.core.store.feedback import FeedbackStore

    llama_cpp = import_llama_cpp()
    with fresh_home("pmem-alignment-eval-") as rt, tempfile.TemporaryDirectory(prefix="pmem-alignment-kept-") as tmp:
        fill_user(rt)
        session = rt.journal.new_session("how-to questions")
        store = FeedbackStore(rt.journal.conn)
        for i, (question, steps, metric, imperial) in enumerate(TOPICS):
            rt.journal.add_turn(session.id, "user", question)
            reply = rt.journal.add_turn(session.id, "assistant", rejected(steps, imperial, i))
            store.record(reply.id, "edit", chosen(steps, metric))
        pairs = len(store.pairs())

        settings = rt.settings
        rt.settings = with_overrides(settings, distill__min_pairs=10_000)  # facts only: the preference stage never starts
        facts_only = rt.distill.run()
        assert facts_only.adapter is not None, facts_only.skipped
        facts_path = rt.distill.store.path(facts_only.adapter)
        kept = Path(tmp) / "facts-only.gguf"
        kept.write_bytes(facts_path.read_bytes())  # the next run replaces (and sweeps) it
        rt.settings = with_overrides(settings, **overrides) if overrides else settings
        rt._distill = None  # the service reads the settings it was made with
        started = time.perf_counter()
        both = rt.distill.run()
        wall = time.perf_counter() - started
        assert both.adapter is not None and both.pairs == pairs, both.summary()
        both_path = rt.distill.store.path(both.adapter)
        print(f"trained {both.summary()}", flush=True)

        model_path = rt.distill.model_path
        system = rt.settings.chat.system_prompt
        vocab = LlamaCppEngine(model_path, vocab_only=True)
        held = []
        for i, (question, steps, metric, imperial) in enumerate(HELD_OUT):
            prompt = vocab.tokenize_prompt([{"role": "system", "content": system}, {"role": "user", "content": question}])
            held.append({
                "question": question, "prompt": prompt,
                "chosen": vocab.tokenize_text(chosen(steps, metric)), "rejected": vocab.tokenize_text(rejected(steps, imperial, i)),
            })
        fact_items = []
        for fact in rt.profile.store.current():
            question = held_out_question(fact)
            prompt = vocab.tokenize_prompt([{"role": "system", "content": system}, {"role": "user", "content": question}])
            fact_items.append({"value": fact.value, "prompt": prompt})
        stop = list(vocab.template.stop)
        vocab.close()
        rt.close()

        results: dict[str, Any] = {}
        for condition, lora in (("base", None), ("facts_adapter", kept), ("facts_and_preferences", both_path)):
            kwargs: dict[str, Any] = dict(model_path=str(model_path), n_ctx=4096, n_threads=min(4, os.cpu_count() or 2), logits_all=True, verbose=False, seed=0)
            if lora is not None:
                kwargs["lora_path"] = str(lora)
            llama = llama_cpp.Llama(**kwargs)
            wins = sum(mean_loglik(llama, h["prompt"], h["chosen"]) > mean_loglik(llama, h["prompt"], h["rejected"]) for h in held)
            checks = []
            samples = []
            for h in held:
                out = llama.create_completion(prompt=h["prompt"], max_tokens=96, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=stop or None)
                reply = str(out["choices"][0]["text"]).strip()
                checks.append(style(reply))
                samples.append({"question": h["question"], "reply": reply})
            hits = sum(item["value"].lower() in greedy(llama, item["prompt"], stop).lower() for item in fact_items)
            llama.close()
            results[condition] = {
                "preference_accuracy": round(wins / len(held), 3),
                "style": round(sum(all(c.values()) for c in checks) / len(checks), 3),
                "style_checks": {k: round(sum(c[k] for c in checks) / len(checks), 3) for k in checks[0]},
                "fact_accuracy": round(hits / len(fact_items), 3),
                "samples": samples[:5],
            }
            print(condition, json.dumps({k: v for k, v in results[condition].items() if k != "samples"}), flush=True)

    write_json(args.out, {
        "pairs": pairs,
        "held_out_pairs": len(HELD_OUT),
        "conditions": results,
        "settings": {key.replace("__", "."): value for key, value in overrides.items()},
        "preference_stage": {"loss": both.preference_loss, "distill_wall_s": round(wall, 1), "adapter": both.summary()},
        "machine": machine(),
    })


if __name__ == "__main__":
    main()
