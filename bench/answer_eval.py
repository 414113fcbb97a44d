"""Answers that use the memory: questions answered end to end through the chat service, as ``pmem ask`` does.

Every question goes through ``ChatService.send`` (the one prompt builder, pmem's retrieval and profile), greedy
(temperature 0, seed 0), with the configured model: the embedded SmolLM2-135M by default, any GGUF with
``--model``. Each question is asked in a fresh conversation that writes nothing, so no answer leaks into the next.

Conditions: ``none`` (no memory), ``profile`` (the profile block only), ``retrieval`` (retrieved memories only),
``both`` (what the chat does), and ``both+adapter`` when ``--adapter`` trains one (persona set only).

Sets:
- ``locomo``: LoCoMo categories 1-4 (official ids: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop), a fixed
  sample (seed 19) of 200 questions from conversations 5-9 (``--quick``: its first 50). ``--split tune`` draws the
  same way from conversations 0-4: the only questions any framing was chosen on. Each conversation is imported
  through pmem's import path (speaker A as the user, speaker B as the assistant, as ``locomo_retrieval.py`` does;
  the profile is learned from speaker A's turns, as ``pmem import`` does).
- ``persona``: ``bench/data/persona_answers.json``, pmem's own held-out user (12 questions, frozen before the
  framing work).
- ``absent``: ``bench/data/absent_answers.json``, 20 questions about the persona user that nothing she said answers
  (frozen before the grounding adapter): the right reply says pmem does not know (``says_dont_know``).
- ``general``: ``bench/data/general_questions.json``, 20 questions that need no memory, asked in the persona user's
  home with the chat's whole memory, judged by ``contains`` of a gold phrase.

``--grounding off|on|both``: answer with the embedded model bare, with the grounding adapter pmem applies to it
(``model.grounding_adapter``), or both in one run (rows of the second carry the condition ``…+grounding``).

Metrics: LoCoMo's token F1 (its ``evaluation.py``: lower case, punctuation, articles and "and" removed, Porter
stems; category 1 answers are comma-split and each part takes its best-matching piece of the prediction;
category 3 keeps the answer before ";"), ``contains`` (every part of the answer appears, stemmed, as a
contiguous run of the prediction's words), mean answer length in words, seconds per answer and prompt tokens.

    python -m bench.answer_eval [--quick] [--set locomo|persona|both] [--split held-out|tune]
        [--framings today,chosen,...] [--conditions none,both,...] [--model PATH] [--adapter] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from bench.harness import BENCH, RESULTS, bench_embedder, bench_environ, machine, write_json
from bench.locomo_retrieval import DEFAULT_DATA, evidence_ids, to_generic
from pmem.core.model_check import says_dont_know  # the judge pmem models check uses: one definition

PERSONA = BENCH / "data" / "persona_answers.json"
ABSENT = BENCH / "data" / "absent_answers.json"
GENERAL = BENCH / "data" / "general_questions.json"
SEED = 19
SAMPLE = 200
QUICK = 50
MAX_TOKENS = 64
CONDITIONS = ("none", "profile", "retrieval", "both")
CATEGORY_NAMES = {"1": "multi-hop", "2": "temporal", "3": "open-domain", "4": "single-hop"}

def framings() -> dict[str, Any]:
    """The framings measured (``chosen`` is pmem's default; the others were the steps to it, measured on the tuning
    split). ``today`` is the prompt before this work, with its 8 memories."""
    from dataclasses import replace

    from pmem.core.prompt import DEFAULT_FRAMING, TRANSCRIPT_FRAMING

    you = replace(DEFAULT_FRAMING, best_last=False, focus=0)
    return {
        "today": replace(TRANSCRIPT_FRAMING, name="today", limit=8),
        "you": replace(you, name="you", limit=8),
        "you-last": replace(you, name="you-last", best_last=True, limit=8),
        "you-k4": replace(you, name="you-k4", limit=4),
        "you-k3": replace(you, name="you-k3", limit=3),
        "you-last-k4": replace(you, name="you-last-k4", best_last=True, limit=4),
        "focus-k4": replace(you, name="focus-k4", focus=60, limit=4),
        "focus-last-k4": replace(DEFAULT_FRAMING, name="focus-last-k4", limit=4),
        "focus-last-k6": replace(DEFAULT_FRAMING, name="focus-last-k6", limit=6),
        "focus-last-k8": replace(DEFAULT_FRAMING, name="focus-last-k8", limit=8),
        "chosen": replace(DEFAULT_FRAMING, name="chosen"),
    }


#: Published LoCoMo QA anchors (token F1 ×100, categories as in each paper), for scale only: far larger models.
ANCHORS = [
    "LoCoMo paper (Maharana et al., 2024, Table 3): human annotators 87.9 F1 overall; GPT-4-turbo with the whole "
    "conversation in context 51.6; GPT-3.5-turbo-16K 37.8; RAG baselines with GPT-3.5 in between.",
    "Mem0 paper (Chhikara et al., 2025), GPT-4o-mini answering, categories 1-4: Mem0 F1 38.7 single-hop, 28.6 "
    "multi-hop, 47.7 open-domain, 48.9 temporal.",
]


# ---------------------------------------------------------------------------------------------- LoCoMo's metric


def _stemmer() -> Any:
    from nltk.stem import PorterStemmer

    return PorterStemmer()


_PS: Any = None


def normalize_answer(text: str) -> str:
    """LoCoMo's ``normalize_answer``: commas dropped, lower case, punctuation removed, a/an/the/and removed."""
    text = str(text).replace(",", "").lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    global _PS
    if _PS is None:
        _PS = _stemmer()
    return [_PS.stem(w) for w in normalize_answer(text).split()]


def f1_score(prediction: str, truth: str) -> float:
    pred, gold = _tokens(prediction), _tokens(truth)
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def locomo_f1(prediction: str, answer: str, category: str) -> float:
    """LoCoMo's per-category F1 (``eval_question_answering``)."""
    if category == "3":
        answer = answer.split(";")[0].strip()
    if category == "1":
        preds = [p.strip() for p in prediction.split(",")]
        golds = [g.strip() for g in answer.split(",")]
        return sum(max(f1_score(p, g) for p in preds) for g in golds) / len(golds)
    return f1_score(prediction, answer)


def contains(prediction: str, answers: list[str], category: str = "") -> bool:
    """Whether one of ``answers`` appears in the prediction (every comma-separated part, for multi-hop)."""
    pred = _tokens(prediction)

    def has(part: str) -> bool:
        want = _tokens(part)
        return bool(want) and any(pred[i : i + len(want)] == want for i in range(len(pred) - len(want) + 1))

    for answer in answers:
        if category == "3":
            answer = answer.split(";")[0]
        parts = [p for p in answer.split(",") if p.strip()] if category == "1" else [answer]
        if parts and all(has(p) for p in parts):
            return True
    return False


# ---------------------------------------------------------------------------------------------- questions


@dataclass
class Question:
    home: int
    question: str
    answers: list[str]
    category: str
    evidence: list[str] = field(default_factory=list)
    """The text of the turns that hold the answer (LoCoMo's evidence), as imported."""


@dataclass
class Home:
    """One user's data dir: its journal, profile and memories, imported once."""

    generic: dict[str, Any]
    questions: list[Question] = field(default_factory=list)


def locomo_homes(data: Path, split: str, n: int) -> list[Home]:
    samples = json.loads(data.read_text())
    convs = range(5, 10) if split == "held-out" else range(0, 5)
    pool: list[tuple[int, dict[str, Any]]] = [
        (c, qa) for c in convs for qa in samples[c]["qa"] if str(qa.get("category")) in CATEGORY_NAMES and "answer" in qa
    ]
    chosen = random.Random(SEED).sample(pool, min(SAMPLE, len(pool)))[:n]
    homes: dict[int, Home] = {}
    texts: dict[int, dict[str, str]] = {}
    for c, qa in chosen:
        if c not in homes:
            generic, dia_order = to_generic(samples[c])
            homes[c] = Home(generic)
            contents = [t["content"] for s in generic["sessions"] for t in s["turns"]]
            texts[c] = dict(zip(dia_order, contents))
        evidence = [texts[c][e] for e in evidence_ids(qa.get("evidence", []), set(texts[c]))[0]]
        homes[c].questions.append(Question(c, qa["question"], [str(qa["answer"])], str(qa["category"]), evidence))
    return [homes[c] for c in sorted(homes)]


def persona_home(path: Path = PERSONA) -> Home:
    raw = json.loads(path.read_text())
    sessions = []
    for n, s in enumerate(raw["sessions"], 1):
        turns = []
        for user, reply in s["turns"]:
            turns += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
        sessions.append({"id": f"persona-s{n}", "title": f"session {n}", "started_at": s["started_at"], "turns": turns})
    home = Home({"sessions": sessions})
    home.questions = [Question(0, q["question"], q["answers"], q["kind"]) for q in raw["questions"]]
    return home


def absent_home() -> Home:
    home = persona_home()
    home.questions = [Question(0, q, [], "absent") for q in json.loads(ABSENT.read_text())["questions"]]
    return home


def general_home() -> Home:
    home = persona_home()
    home.questions = [Question(0, q["question"], q["answers"], "general") for q in json.loads(GENERAL.read_text())["questions"]]
    return home


# ---------------------------------------------------------------------------------------------- answering


class Condition:
    """The chat service's ``Recall`` with layers switched off; learns and writes nothing."""

    def __init__(self, layers: Any, framing: Any, *, profile: bool, retrieval: bool) -> None:
        self.layers, self.framing, self.profile, self.retrieval = layers, framing, profile, retrieval

    def profile_block(self) -> str:
        from pmem.core.profile.service import render_block

        if not self.profile:
            return ""
        return render_block(self.layers.profile.store.current(), person=self.framing.profile_person)

    def recall(self, query: str, **kwargs: Any) -> list[Any]:
        return self.layers.recall(query, **kwargs) if self.retrieval else []

    def on_user_turn(self, turn: Any) -> None:
        return None

    def remember_exchange(self, user: Any, assistant: Any) -> None:
        return None

    def pause_background(self) -> None:
        return None

    def resume_background(self) -> None:
        return None

    def check_adapter(self, engine: Any) -> None:
        return None


def open_home(home: Home, root: Path, embedder: Any) -> tuple[Any, Any, Any]:
    """Import ``home`` into a fresh data dir through pmem's import path; returns (settings, paths, layers)."""
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.layers import MemoryLayers
    from pmem.core.memory.service import MemoryService
    from pmem.core.profile.service import ProfileService
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal
    from pmem.core.transfer import import_sessions, parse

    # ``PMEM_MEMORY_*`` from the benchmark's own environment reach the measured settings (to compare values).
    env = {**{k: v for k, v in bench_environ(root).items() if k.startswith("PMEM_MEMORY_")}, "PMEM_HOME": str(root), "PMEM_DISTILL_AUTO": "false"}
    paths = resolve_paths(env)
    paths.ensure_data_dir()
    settings = load_settings(paths, env)
    conn = connect(paths.database)
    journal = Journal(conn)
    kind, sessions = parse(home.generic)
    summary = import_sessions(journal, kind, sessions)
    profile = ProfileService(conn, None, use_model=False)
    profile.learn_history(summary.session_ids)
    memory = MemoryService(settings, paths, conn, embedder=embedder)
    memory.reconcile()
    memory.index_pending()
    from pmem.core.forget import Forgetter

    return settings, paths, MemoryLayers(settings, memory, profile, Forgetter(journal, memory, paths))


def _squash(text: str) -> str:
    return " ".join(text.replace('"', "'").split())


def in_prompt(prompt: Any, q: Question) -> dict[str, int]:
    """Whether what answers the question reached the prompt: every evidence turn (its first 40 characters, as
    quoted), and the gold answer itself (the ``contains`` test applied to the prompt's last message)."""
    if prompt is None:
        return {"answer_in_prompt": 0}
    last = _squash(prompt.messages[-1]["content"])
    out = {"answer_in_prompt": int(contains(last, q.answers, q.category))}
    if q.evidence:  # the persona has no evidence annotations
        out["evidence_in_prompt"] = int(all(_squash(t)[:40] in last for t in q.evidence))
    return out


def answer(engine: Any, settings: Any, paths: Any, recall: Any, question: str, framing: Any, *, generate: bool = True) -> dict[str, Any]:
    from pmem.core.chat import ChatService

    from dataclasses import replace

    # A framing with a memory count of its own recalls that many (``today``: the 8 of its time).
    memory = replace(settings.memory, retrieve_k=framing.limit or settings.memory.retrieve_k)
    service = ChatService(settings=replace(settings, memory=memory), paths=paths, engine=engine, journal=None, recall=recall)
    service.framing = framing
    started = time.perf_counter()
    if generate:
        text = "".join(service.send(question, temperature=0.0, seed=0, max_tokens=MAX_TOKENS)).strip()
        prompt = service.last.prompt
    else:
        text, prompt = "", service.build(question)
    seconds = time.perf_counter() - started
    return {
        "answer": text,
        "seconds": round(seconds, 3),
        "prompt_tokens": prompt.tokens if prompt else 0,
        "memories": len(prompt.memories) if prompt else 0,
        "_prompt": prompt,
    }


def run_set(name: str, homes: list[Home], engine: Any, embedder: Any, framings: dict[str, Any], conditions: list[str],
            adapter: bool = False, generate: bool = True, suffix: str = "") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    total = sum(len(h.questions) for h in homes)
    done = 0
    for home in homes:
        with tempfile.TemporaryDirectory(prefix="pmem-answers-") as tmp:
            settings, paths, layers = open_home(home, Path(tmp), embedder)
            combos = [(c, f) for c in conditions for f in (framings if c != "none" else list(framings)[:1])]
            for q in home.questions:
                for condition, framing_name in combos:
                    recall = Condition(
                        layers, framings[framing_name], profile=condition in ("profile", "both"), retrieval=condition in ("retrieval", "both")
                    )
                    out = answer(engine, settings, paths, recall, q.question, framings[framing_name], generate=generate)
                    rows.append(_score(name, q, condition + suffix, framing_name, out))
                done += 1
                print(f"\r{name}: {done}/{total} questions", end="", file=sys.stderr, flush=True)
            if adapter:
                rows += _with_adapter(name, home, settings, paths, layers, framings, engine)
            layers.close()
            layers.episodic.conn.close()
    print(file=sys.stderr)
    return rows


def _with_adapter(name: str, home: Home, settings: Any, paths: Any, layers: Any, framings: dict[str, Any], base: Any) -> list[dict[str, Any]]:
    """Train this home's adapter through pmem's distillation, then ask again with it applied."""
    from pmem.core.distill.service import DistillService
    from pmem.core.engine import create_engine
    from pmem.core.models import model_fingerprint

    service = DistillService(settings, paths, layers.episodic.conn, base.model_path)
    started = time.perf_counter()
    report = service.run()
    print(f"\nadapter trained in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    adapter = service.active()
    if adapter is None:
        print(f"\nno adapter trained: {report}", file=sys.stderr)
        return []
    engine = create_engine(settings, str(base.model_path), (service.store.path(adapter), adapter.id))
    engine.adapter_base = model_fingerprint(engine.model_path)
    engine.load()
    rows = []
    for q in home.questions:
        for framing_name in framings:
            recall = Condition(layers, framings[framing_name], profile=True, retrieval=True)
            rows.append(_score(name, q, "both+adapter", framing_name, answer(engine, settings, paths, recall, q.question, framings[framing_name])))
    engine.close()
    return rows


def _score(name: str, q: Question, condition: str, framing: str, out: dict[str, Any]) -> dict[str, Any]:
    out = dict(out)
    out.update(in_prompt(out.pop("_prompt"), q))
    if not q.answers:  # an absent answer: only whether it says it does not know
        f1, found = 0.0, 0
    else:
        f1 = locomo_f1(out["answer"], q.answers[0], q.category) if name == "locomo" else max(f1_score(out["answer"], a) for a in q.answers)
        found = int(contains(out["answer"], q.answers, q.category))
    return {
        "set": name, "home": q.home, "category": q.category, "condition": condition, "framing": framing,
        "question": q.question, "gold": q.answers[0] if q.answers else "", **out,
        "f1": round(f1, 4), "contains": found, "dont_know": int(says_dont_know(out["answer"])),
        "words": len(out["answer"].split()),
    }


# ---------------------------------------------------------------------------------------------- report


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = sorted({(r["set"], r["condition"], r["framing"]) for r in rows})
    for set_name, condition, framing in keys:
        part = [r for r in rows if (r["set"], r["condition"], r["framing"]) == (set_name, condition, framing)]
        block = _stats(part)
        block["by_category"] = {c: _stats([r for r in part if r["category"] == c]) for c in sorted({r["category"] for r in part})}
        out.setdefault(set_name, {}).setdefault(condition, {})[framing] = block
    return out


def _stats(part: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(part)
    if not n:
        return {"n": 0}
    return {
        "n": n,
        "f1": round(sum(r["f1"] for r in part) / n, 4),
        "contains": round(sum(r["contains"] for r in part) / n, 4),
        "words": round(sum(r["words"] for r in part) / n, 1),
        "seconds": round(sum(r["seconds"] for r in part) / n, 3),
        "prompt_tokens": round(sum(r["prompt_tokens"] for r in part) / n, 1),
        # Not measured in runs from before these columns existed: None, shown as "–".
        "evidence_in_prompt": round(sum(r["evidence_in_prompt"] for r in part) / n, 4) if all("evidence_in_prompt" in r for r in part) else None,
        "answer_in_prompt": round(sum(r["answer_in_prompt"] for r in part) / n, 4) if all("answer_in_prompt" in r for r in part) else None,
        "dont_know": round(sum(r["dont_know"] for r in part) / n, 4) if all("dont_know" in r for r in part) else None,
        # Said it did not know though the answer was in its prompt: the adapter's cost, if any.
        "dont_know_when_present": _rate([r["dont_know"] for r in part if r.get("answer_in_prompt")]) if all("dont_know" in r for r in part) else None,
    }


def _rate(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _opt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(summary: dict[str, Any]) -> str:
    lines = []
    for set_name, conditions in summary.items():
        lines += [f"**{set_name}**", "", "| condition | framing | n | F1 | contains | single-hop F1 / contains | words | s/answer | prompt tokens | evidence / answer in prompt | says it doesn't know (all / answer in prompt) |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        order = [*CONDITIONS, "both+adapter"]
        for condition in sorted(conditions, key=lambda c: (order.index(c.removesuffix("+grounding")) if c.removesuffix("+grounding") in order else 99, c)):
            for framing, b in conditions.get(condition, {}).items():
                single = b["by_category"].get("4") or b["by_category"].get("single-hop")
                sh = f"{single['f1']:.3f} / {single['contains']:.3f}" if single and single.get("n") else "–"
                lines.append(
                    f"| {condition} | {framing if condition != 'none' else '–'} | {b['n']} | {b['f1']:.3f} | {b['contains']:.3f} | {sh} "
                    f"| {b['words']} | {b['seconds']:.2f} | {b['prompt_tokens']:.0f} | {_opt(b['evidence_in_prompt'])} / {_opt(b['answer_in_prompt'])} "
                    f"| {_opt(b.get('dont_know'))} / {_opt(b.get('dont_know_when_present'))} |"
                )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} LoCoMo questions instead of {SAMPLE}.")
    parser.add_argument("--questions", type=int, default=None, help="The first N of the seeded sample (a smoke run).")
    parser.add_argument("--set", default="both", help="locomo, persona, absent, general, both (locomo and persona) or all; comma-separated.")
    parser.add_argument("--grounding", choices=["off", "on", "both"], default="off",
                        help="Answer without the grounding adapter, with it, or both in one run.")
    parser.add_argument("--split", choices=["held-out", "tune"], default="held-out")
    parser.add_argument("--framings", default="today,chosen", help="Comma-separated names of framings() below.")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--model", default=None, help="A GGUF to answer with instead of the configured model.")
    parser.add_argument("--adapter", action="store_true", help="Persona set: also train an adapter and answer with it.")
    parser.add_argument("--prompt-only", action="store_true", help="Build the prompts without answering: what reaches the prompt.")
    parser.add_argument("--currency", choices=["on", "off"], default="on",
                        help="off: retrieval without its currency step (Weights.current / superseded / later at 0), to compare")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.currency == "off":
        from dataclasses import replace

        import pmem.core.memory.weights as weights

        for name in ("WEIGHTS", "WEIGHTS_TUNED", "WEIGHTS_WITHOUT_ADAPTER"):
            setattr(weights, name, replace(getattr(weights, name), current=0.0, superseded=0.0, later=0.0))

    env = bench_environ(tempfile.mkdtemp(prefix="pmem-bench-"))
    from pmem.core.config import load_settings, resolve_paths
    from pmem.core.engine import create_engine
    known = framings()
    chosen: dict[str, Any] = {}
    for name in args.framings.split(","):
        if name not in known:
            sys.exit(f"unknown framing {name!r}; known: {', '.join(known)}")
        chosen[name] = known[name]
    conditions = [c for c in args.conditions.split(",") if c]
    settings = load_settings(resolve_paths(env), env)
    embedder = bench_embedder()
    embedder.load()
    wanted = {"both": {"locomo", "persona"}, "all": {"locomo", "persona", "absent", "general"}}.get(args.set, set(args.set.split(",")))
    if unknown := wanted - {"locomo", "persona", "absent", "general"}:
        sys.exit(f"unknown set(s) {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    homes: list[Home] = []
    if "locomo" in wanted:
        if not args.data.exists():
            sys.exit(f"LoCoMo data not found at {args.data}; pass --data PATH")
        homes = locomo_homes(args.data, args.split, args.questions or (QUICK if args.quick else SAMPLE))
    from dataclasses import replace

    engine: Any = None
    for grounded in {"off": [False], "on": [True], "both": [False, True]}[args.grounding]:
        run_settings = replace(settings, model=replace(settings.model, grounding_adapter=grounded))
        engine = create_engine(run_settings, args.model)
        engine.load()
        suffix = "+grounding" if grounded and args.grounding == "both" else ""
        if "locomo" in wanted:
            rows += run_set("locomo", homes, engine, embedder, chosen, conditions, generate=not args.prompt_only, suffix=suffix)
        if "persona" in wanted:
            rows += run_set("persona", [persona_home()], engine, embedder, chosen, conditions, adapter=args.adapter,
                            generate=not args.prompt_only, suffix=suffix)
        for name, make in (("absent", absent_home), ("general", general_home)):
            if name in wanted:
                rows += run_set(name, [make()], engine, embedder, chosen, [c for c in conditions if c != "none"] or ["both"],
                                generate=not args.prompt_only, suffix=suffix)
        engine.close()
    summary = summarise(rows)
    result = {
        "summary": summary,
        "table": table(summary),
        "settings": {
            "model": getattr(engine, "model_name", ""), "split": args.split, "quick": args.quick, "questions": sum(len(h.questions) for h in homes), "seed": SEED,
            "grounding": args.grounding, "sets": sorted(wanted),
            "max_tokens": MAX_TOKENS, "temperature": 0, "framings": {n: asdict(f) for n, f in chosen.items()}, "conditions": conditions,
            "retrieve_k": settings.memory.retrieve_k,
        },
        "anchors": ANCHORS,
        "wall_s": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "rows": rows,
    }
    out = args.out or RESULTS / ("answer_eval.json" if args.split == "held-out" else "answer_eval_tune.json")
    write_json(out, result)
    print(result["table"])
    print(f"wall {result['wall_s']} s -> {out}")


if __name__ == "__main__":
    main()
