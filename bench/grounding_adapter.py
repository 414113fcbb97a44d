"""The grounding adapter of the embedded SmolLM2-135M-Instruct: its data, its training and its export (issue #38).

    python -m bench.grounding_adapter [--users 40] [--epochs 1] [--rank 8] [--near [--counterparts]] [--profile-only]
        [--statements] [--favourites 2] [--general 3]
        [--no-locomo-absent] [--locomo-repeat 2] [--modules q_proj,v_proj] [--layers 20-29] [--out PATH]

The embedded 135M model does not read what pmem puts in its prompt. This teaches it to, once, and ships the result
(a few MB of LoRA, applied by default only on that model's GGUF). The examples are prompts built exactly as the chat
builds them: each user's history is imported into a fresh data dir through pmem's import path, the profile learned
from it, the memories indexed, and ``ChatService.build`` makes the prompt (profile block, recalled memories with their
dates and speakers, the framing) for each question. Four kinds:

- synthetic users (``grounding_data.py``, seed 38): facts said across dated sessions, some changed later; several
  phrasings of each question, answered in one sentence that uses the memory;
- questions about what the user never said, answered "I don't know — you haven't told me …";
- LoCoMo conversations **0-4 only**, categories 1-4 whose answer reached the prompt (answered with LoCoMo's gold
  answer) and category 5 (adversarial: nothing in the conversation answers them; the don't-know answer);
- ordinary requests with no memory involved, asked in a user's home, answered with the base model's own greedy answer
  without memory (so the adapter learns to leave them alone).

Flags add more, each measured in bench/README ("Tried and not kept"): near misses (``--near``, with their positive
counterparts: ``--counterparts``), questions asked with the profile block alone (``--profile-only``), a new fact told
and restated (``--statements``), never-said "favourite …" questions (``--favourites N`` a user), ordinary requests
from a longer list (``--general N`` a user), LoCoMo's category 5 left out (``--no-locomo-absent``) and its answered
questions repeated (``--locomo-repeat N``), and the projections and layers adapted (``--modules``, ``--layers``).
The shipped adapter's flags are in ``pmem/core/engine/grounding/manifest.json`` ("recipe").

Never LoCoMo 5-9, never ``bench/data/persona_answers.json``, ``absent_answers.json`` or ``general_questions.json``:
``answer_eval.py`` judges the adapter on those. Training runs pmem's own distillation loop (peft on the CPU,
``pmem.core.distill.train``) and writes the GGUF LoRA with ``pmem.core.distill.export``. Each stage's time is recorded
in ``results/grounding_adapter.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from bench.harness import RESULTS, bench_embedder, bench_environ, machine, write_json
from bench.answer_eval import Condition, Home, answer, contains, open_home
from bench.grounding_data import GENERAL, MORE_GENERAL, users
from bench.locomo_retrieval import DEFAULT_DATA, to_generic

SEED = 38
LOCOMO_TUNE = range(0, 5)
ADVERSARIAL_SHARE = 0.35
"""The share of LoCoMo 0-4's category-5 questions taught the don't-know answer (the rest are not used)."""
NOT_REMEMBERED = "I don't know — nothing I remember says so."
"""The answer to a LoCoMo question about someone else that nothing in the conversation answers."""
MAX_TOKENS = 1024
"""Longest training sequence: LoCoMo prompts run to ~700 tokens."""


def shipped_path() -> Path:
    from pmem.core.engine.grounding import GROUNDING_DIR, MANIFEST

    return GROUNDING_DIR / json.loads((GROUNDING_DIR / MANIFEST).read_text())["file"]


def _prompt(
    engine: Any, settings: Any, paths: Any, layers: Any, question: str, *, memory: bool = True, retrieval: bool = True,
) -> list[dict[str, str]]:
    from pmem.core.prompt import DEFAULT_FRAMING

    recall = Condition(layers, DEFAULT_FRAMING, profile=memory, retrieval=memory and retrieval)
    return answer(engine, settings, paths, recall, question, DEFAULT_FRAMING, generate=False)["_prompt"].messages


def _base_answer(engine: Any, settings: Any, paths: Any, layers: Any, question: str) -> str:
    """The base model's own greedy answer without memory, cut after its last whole sentence."""
    from pmem.core.prompt import DEFAULT_FRAMING

    recall = Condition(layers, DEFAULT_FRAMING, profile=False, retrieval=False)
    text = answer(engine, settings, paths, recall, question, DEFAULT_FRAMING)["answer"]
    cut = max(text.rfind(". "), text.rfind(".\n"), text.rfind("!"), text.rfind("?"))
    return text if text.endswith((".", "!", "?")) or cut < 20 else text[: cut + 1]


PROFILE_ONLY = 0.3
"""With ``--profile-only``: the share of a synthetic user's questions also asked with the profile block alone (no recalled
memories), as a fresh home asks them: a model taught the don't-know answer mostly where memories are missing
learns to refuse a question the profile answers ("You have a dog called Pepper")."""


_FRAME_WORDS = frozenset("yes your you you're are is was called work works as a an the live lives in at on to of now".split())


def _in_profile(answer: str, profile: str) -> bool:
    """Whether every word of an answer but its frame ("Your dog is called …") is in the profile block."""
    import re

    words = [w for w in re.findall(r"[\w'-]+", answer.lower()) if w not in _FRAME_WORDS]
    return all(w in profile.lower() for w in words)


def synthetic_examples(engine: Any, embedder: Any, n_users: int, rng: random.Random, recipe: dict[str, Any]) -> list[dict[str, Any]]:
    examples: list[dict[str, Any]] = []
    per_user = recipe.get("general", 0)
    general = list(GENERAL) + (list(MORE_GENERAL) if per_user else [])
    rng.shuffle(general)
    profile_only = recipe.get("profile_only", False)
    made = users(n_users, SEED, near=recipe.get("near", False), counterparts=recipe.get("counterparts", False),
                 statements=recipe.get("statements", False), favourites=recipe.get("favourites", 0))
    for i, user in enumerate(made):
        with tempfile.TemporaryDirectory(prefix="pmem-grounding-") as tmp:
            settings, paths, layers = open_home(Home(user.generic()), Path(tmp), embedder)
            for ask in user.asks:
                messages = _prompt(engine, settings, paths, layers, ask.question)
                examples.append({"source": "synthetic", "kind": ask.kind, "messages": messages, "answer": ask.answer})
                if profile_only and ask.kind in ("present", "absent") and rng.random() < PROFILE_ONLY:
                    alone = _prompt(engine, settings, paths, layers, ask.question, retrieval=False)
                    if ask.kind == "present" and not _in_profile(ask.answer, alone[0]["content"]):
                        continue  # a fact the profile did not learn: without the memories, nothing answers it
                    examples.append({"source": "synthetic", "kind": f"{ask.kind} (profile only)", "messages": alone, "answer": ask.answer})
            # Ordinary requests in that user's home, with the chat's memory: one for each of the first 30 users, or
            # ``general`` each, the list cycled through.
            asked = [general[(i * per_user + j) % len(general)] for j in range(per_user)] if per_user else general[i : i + 1]
            for question in asked:
                target = _base_answer(engine, settings, paths, layers, question)
                messages = _prompt(engine, settings, paths, layers, question)
                examples.append({"source": "general", "kind": "general", "messages": messages, "answer": target})
            layers.close()
            layers.episodic.conn.close()
        print(f"\rsynthetic users: {i + 1}/{n_users}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return examples


def locomo_examples(engine: Any, embedder: Any, data: Path, rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, int]]:
    samples = json.loads(data.read_text())
    examples: list[dict[str, Any]] = []
    counts = {"asked": 0, "answer_in_prompt": 0, "adversarial": 0}
    for c in LOCOMO_TUNE:
        generic, _ = to_generic(samples[c])
        with tempfile.TemporaryDirectory(prefix="pmem-grounding-") as tmp:
            settings, paths, layers = open_home(Home(generic), Path(tmp), embedder)
            for qa in samples[c]["qa"]:
                category = str(qa.get("category"))
                if category == "5":
                    if rng.random() >= ADVERSARIAL_SHARE:
                        continue
                    messages = _prompt(engine, settings, paths, layers, qa["question"])
                    counts["adversarial"] += 1
                    examples.append({"source": "locomo", "kind": "absent", "messages": messages,
                                     "answer": NOT_REMEMBERED})
                    continue
                if "answer" not in qa:
                    continue
                counts["asked"] += 1
                messages = _prompt(engine, settings, paths, layers, qa["question"])
                gold = str(qa["answer"])
                if not contains(" ".join(messages[-1]["content"].replace('"', "'").split()), [gold], category):
                    continue  # the answer did not reach the prompt: nothing to read, so nothing to teach
                counts["answer_in_prompt"] += 1
                examples.append({"source": "locomo", "kind": "present", "messages": messages, "answer": gold})
            layers.close()
            layers.episodic.conn.close()
        print(f"\rlocomo conversations: {c + 1}/{len(LOCOMO_TUNE)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return examples, counts


def train(
    examples: list[dict[str, Any]], *, epochs: int, rank: int, alpha: float, lr: float, out: Path, modules: list[str] | None = None,
    layers: list[int] | None = None,
) -> dict[str, Any]:
    import warnings

    from pmem.core.distill.base import load_dense_base
    from pmem.core.distill.export import gguf_tensors, write_adapter
    from pmem.core.distill.train import lora_state, tokenize_chats, train_lora
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.models import embedded_chat_model, model_fingerprint, read_gguf_info

    model = embedded_chat_model()
    assert model is not None
    fingerprint = model_fingerprint(model)
    vocab = LlamaCppEngine(model, vocab_only=True)
    try:
        data = tokenize_chats([(e["messages"], e["answer"]) for e in examples], vocab, max_tokens=MAX_TOKENS)
        pad = max(0, vocab.llama.token_eos())
    finally:
        vocab.close()
    base, _ = load_dense_base(model, Path(tempfile.gettempdir()) / "pmem-grounding-base", fingerprint)
    started = time.perf_counter()

    def on_step(step: int, total: int, loss: float) -> None:
        if step == 1 or step % 10 == 0 or step == total:
            spent = time.perf_counter() - started
            print(f"\rstep {step}/{total} loss {loss:.3f} ({spent:.0f} s, ~{spent / step * (total - step):.0f} s left)", end="", file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # No gradient checkpointing: memory is plentiful for a 135M model, and it costs a third more compute.
        result = train_lora(base, data, rank=rank, alpha=alpha, epochs=epochs, learning_rate=lr, threads=2, pad_id=pad,
                            on_step=on_step, seed=SEED, checkpointing=False, target_modules=modules, layers=layers)
    print(file=sys.stderr)
    info = read_gguf_info(model)
    config = base.config
    tensors = gguf_tensors(lora_state(result.model), architecture=info.architecture, n_head=int(config.num_attention_heads),
                           n_head_kv=int(getattr(config, "num_key_value_heads", None) or config.num_attention_heads))
    tensors = {name: array.astype("float16") for name, array in tensors.items()}  # half the package size, same answers
    size = write_adapter(out, tensors, architecture=info.architecture, alpha=alpha, metadata={
        "adapter_id": "grounding", "base_model": fingerprint, "base_name": info.name or model.name,
        "recipe": f"bench/grounding_adapter.py seed {SEED}, {len(data)} examples, rank {rank}, alpha {alpha}, {epochs} epochs, lr {lr}, "
                  f"modules {','.join(modules or ['all'])}, layers {_span(layers)}",
    })
    return {"examples": len(data), "steps": result.steps, "train_s": round(result.seconds, 1), "first_loss": result.first_loss,
            "final_loss": result.final_loss, "size_bytes": size, "base_fingerprint": fingerprint,
            "tokens_mean": round(sum(len(t.input_ids) for t in data) / max(1, len(data)), 1)}


def _layers(text: str) -> list[int]:
    """``"22-29"`` or ``"0,5,9"``: the layers to adapt."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def _span(layers: list[int] | None) -> str:
    return "all" if not layers else f"{layers[0]}-{layers[-1]}" if layers == list(range(layers[0], layers[-1] + 1)) else ",".join(map(str, layers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--limit", type=int, default=0, help="Train on the first N examples only (a smoke run).")
    parser.add_argument("--near", action="store_true", help="Synthetic users are also asked near misses (a dog's name of one who has a cat).")
    parser.add_argument("--counterparts", action="store_true", help="With --near: each near miss beside its positive counterpart.")
    parser.add_argument("--profile-only", action="store_true", help="A share of questions also asked with the profile block alone.")
    parser.add_argument("--statements", action="store_true", help="Each synthetic user also tells one new fact, answered by restating it.")
    parser.add_argument("--favourites", type=int, default=0, help="Never-said 'favourite …' questions per synthetic user.")
    parser.add_argument("--general", type=int, default=0, help="Ordinary requests per synthetic user, from a longer list (default: one for each of the first 30).")
    parser.add_argument("--no-locomo-absent", action="store_true",
                        help="Leave out the LoCoMo category-5 questions (taught 'nothing I remember says so').")
    parser.add_argument("--locomo-repeat", type=int, default=1, help="Each LoCoMo question whose answer is in the prompt, N times.")
    parser.add_argument("--modules", default=None, help="Comma-separated projections to adapt (default: all seven).")
    parser.add_argument("--layers", type=_layers, default=None, help="The layers to adapt, e.g. 22-29 (default: all).")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--examples", type=Path, default=None,
                        help="Where the built examples are cached (reused when present; default: the temp dir).")
    parser.add_argument("--out", type=Path, default=None, help="The adapter file (default: the shipped one).")
    parser.add_argument("--result", type=Path, default=RESULTS / "grounding_adapter.json")
    args = parser.parse_args()

    # The prompts and the base answers come from the bare model.
    env = bench_environ(tempfile.mkdtemp(prefix="pmem-bench-"), PMEM_MODEL_GROUNDING_ADAPTER="false")
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.engine import create_engine

    timings: dict[str, float] = {}
    rng = random.Random(SEED)
    modules = args.modules.split(",") if args.modules else None
    recipe = {k: getattr(args, k) for k in ("near", "counterparts", "profile_only", "statements", "favourites", "general")}
    tag = "".join(f"-{k.replace('_', '-')}{on if on is not True else ''}" for k, on in recipe.items() if on)
    args.examples = args.examples or Path(tempfile.gettempdir()) / f"pmem-grounding-examples{tag}.json"
    if args.examples.is_file():
        built = json.loads(args.examples.read_text())
        examples, locomo_counts = built["examples"], built["locomo"]
    else:
        started = time.perf_counter()
        engine = create_engine(load_settings(resolve_paths(env), env))
        engine.load()
        embedder = bench_embedder()
        embedder.load()
        examples = synthetic_examples(engine, embedder, args.users, rng, recipe)
        more, locomo_counts = locomo_examples(engine, embedder, args.data, rng)
        examples += more
        engine.close()
        timings["data_s"] = round(time.perf_counter() - started, 1)
        args.examples.write_text(json.dumps({"examples": examples, "locomo": locomo_counts}))
    # A selection of the built data, so that it needs no rebuild (the cache is keyed by the recipe above).
    if args.no_locomo_absent:
        examples = [e for e in examples if not (e["source"] == "locomo" and e["kind"] == "absent")]
    examples += [e for e in examples if e["source"] == "locomo" and e["kind"] == "present"] * (args.locomo_repeat - 1)
    random.Random(SEED).shuffle(examples)
    if args.limit:
        examples = examples[: args.limit]
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[f"{e['source']}/{e['kind']}"] = kinds.get(f"{e['source']}/{e['kind']}", 0) + 1
    print(f"{len(examples)} examples: {kinds}", file=sys.stderr)
    out = args.out or shipped_path()
    trained = train(examples, epochs=args.epochs, rank=args.rank, alpha=args.alpha, lr=args.lr, out=out, modules=modules, layers=args.layers)
    timings["train_s"] = trained["train_s"]
    result = {"examples_by_kind": kinds, "locomo_0_4": locomo_counts, "training": trained, "timings": timings,
              "settings": {"users": args.users, "epochs": args.epochs, "rank": args.rank, "alpha": args.alpha, "lr": args.lr, "seed": SEED,
                           **recipe, "locomo_absent": not args.no_locomo_absent, "locomo_repeat": args.locomo_repeat, "modules": modules or "all", "layers": _span(args.layers)},
              "adapter": str(out), "machine": machine()}
    write_json(args.result, result)
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))


if __name__ == "__main__":
    main()
