"""pmem against bare llama-cpp-python, measured in the same run on the same machine, as ratios.

    python -m bench.perf [--quick] [--out bench/results/perf.json]

Measures (medians; see bench/README.md for what each means):
  gen_tps_ratio        tokens/s through pmem's chat service / bare Llama.create_chat_completion
  ttft_memory_ratio    first-token time of a turn with profile + 8 memories + recent turns, typed in the TUI /
                       a bare call with the same recent turns and no memory (both with warm KV caches)
  ttft_after_restart_s first-token time of `pmem ask` in a new process with a saved prefix state
  ask_cold             `pmem ask` in a new process on a store with memory: wall-clock to its first character, and bare
                       llama-cpp-python started the same way
  ttft_background      first-token time with and without profile extraction pending
  write_critical_ms    journal commit of a user turn (the only write before the model is called)
  help_s, profile_show_s, memory_search_cold_s   whole-process wall time
  import_turns_per_s   LoCoMo through pmem's import path (journal, profile learning, and all of it + indexing)
  chat_peak_rss_mb     peak RSS of a process that chats three turns with every memory layer on
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from bench.harness import RESULTS, SHARED, bench_environ, bench_settings, machine, wall_seconds, write_json

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
SYSTEM = "You are pmem, a helpful assistant running privately on the user's own computer. Answer concisely and truthfully."
PMEM = [sys.executable, "-m", "pmem"]


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 4)


def _home() -> str:
    return tempfile.mkdtemp(prefix="pmem-perf-")


def _bare(model: Path, threads: int, n_ctx: int) -> Any:
    from pmem.core.engine.llama_compat import import_llama_cpp
    llama_cpp = import_llama_cpp()

    return llama_cpp.Llama(model_path=str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)


def _bare_stream(llama: Any, messages: list[dict], max_tokens: int) -> tuple[float, float, int]:
    """(ttft, gen seconds from first to last token, tokens) of one bare streamed chat completion."""
    started = time.perf_counter()
    first = last = None
    n = 0
    for chunk in llama.create_chat_completion(messages=messages, stream=True, temperature=0.0, max_tokens=max_tokens, seed=0):
        if chunk["choices"][0]["delta"].get("content"):
            now = time.perf_counter()
            first = first or now
            last = now
            n += 1
    assert first is not None and last is not None
    return first - started, last - first, n


def _service(home: str, threads: int, *, memory: bool = True, use_model: str = "never") -> Any:
    from pmem.core.chat import ChatService
    from pmem.core.runtime import Runtime

    rt = Runtime.load(environ=bench_environ(home))
    rt.settings.model.n_threads = threads
    rt.settings.chat.temperature = 0.0
    rt.settings.chat.seed = 0
    rt.settings.profile.use_model = use_model  # type: ignore[assignment]
    service = ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=rt.layers if memory else None)
    return rt, service


# ---------------------------------------------------------------- generation speed


def gen_tps(model: Path, threads: int, runs: int, max_tokens: int) -> dict[str, Any]:
    rt, service = _service(_home(), threads)
    bare = _bare(model, threads, rt.engine.n_ctx)  # the context pmem chose (model.n_ctx = 0: the model's own, capped)
    rt.settings.chat.repeat_penalty = 1.0  # the same sampling as the bare call's defaults
    rt.settings.chat.top_p = 0.95
    # The same prompt on both sides: earlier runs' exchanges must not come back as memories and lengthen it
    # (that cost is what ttft_memory measures).
    rt.settings.memory.enabled = False
    service.warm()
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}]
    bare_tps, pmem_tps = [], []
    for _ in range(runs):  # interleaved, so drift in machine load hits both sides alike
        bare.reset()
        _, gen_s, n = _bare_stream(bare, messages, max_tokens)
        bare_tps.append((n - 1) / gen_s)
        service.new_session()
        rt.engine.llama.reset()  # both sides evaluate the prompt from scratch
        first = last = None
        pieces = 0
        for _piece in service.send(PROMPT, max_tokens=max_tokens):  # timed where a face receives the tokens
            last = time.perf_counter()
            first = first or last
            pieces += 1
        pmem_tps.append((pieces - 1) / (last - first))  # type: ignore[operator]
        rt.layers.flush()  # indexing the exchange must not overlap the next bare run
    rt.close()
    return {"bare_tps": _median(bare_tps), "pmem_tps": _median(pmem_tps), "ratio": round(_median(pmem_tps) / _median(bare_tps), 3)}


# ---------------------------------------------------------------- time to first token with memory


HISTORY = [
    "I'm planning a trip to Portugal in June.",
    "Which cities would you suggest for a week?",
    "I like old towns and good food.",
]
QUESTION = "What should I pack for the trip?"


def _seed_memory(home: str) -> None:
    """A profile of 15 facts and 300 past exchanges from LoCoMo, through pmem's own import path."""
    from pmem.core.config import resolve_paths
    from pmem.core.memory.service import MemoryService
    from pmem.core.profile.store import ProfileStore
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal
    from pmem.core.transfer import import_sessions, parse
    from bench.locomo_retrieval import DEFAULT_DATA, to_generic

    paths = resolve_paths({"PMEM_HOME": home})
    paths.ensure_data_dir()
    conn = connect(paths.database)
    sample = json.loads(DEFAULT_DATA.read_text())[0]
    generic, _ = to_generic(sample)
    kind, sessions = parse(generic)
    import_sessions(Journal(conn), kind, sessions)
    memory = MemoryService(bench_settings(), paths, conn)
    memory.reconcile()
    memory.index_pending()
    store = ProfileStore(conn)
    for key, value in [
        ("identity.name", "Ada"), ("location.city", "Utrecht"), ("work.employer", "Philips"), ("work.job", "software engineer"),
        ("people.sister", "Priya"), ("people.partner", "Sam"), ("pets.dog", "Biscuit"), ("health.diet", "vegetarian"),
        ("health.allergy", "peanuts"), ("preferences.likes", "jazz"), ("preferences.likes", "hiking"),
        ("preferences.dislikes", "crowds"), ("goals.goal", "run a marathon"), ("projects.project", "a home automation system"),
        ("style.reply_length", "short"),
    ]:
        store.set(key, value)
    memory.close()
    conn.close()


def ttft_memory(model: Path, threads: int, runs: int, quick: bool = False) -> dict[str, Any]:
    """The configurations on the same seeded data: typed in the TUI (the headline), sent at once, and
    anticipated memories only. A quick run measures the first two, once each."""
    home = _home()
    if (SHARED / "data" / "locomo" / "locomo10.json").exists():
        _seed_memory(home)
    if quick:
        return {
            "typed": _ttft_memory(home, model, threads, 1, fresh=3, typed=True),
            "default": _ttft_memory(home, model, threads, 1, fresh=3),
        }
    return {
        "typed": _ttft_memory(home, model, threads, runs, fresh=3, typed=True),
        "default": _ttft_memory(home, model, threads, max(2, runs - 2), fresh=3),
        "anticipated_only": _ttft_memory(home, model, threads, max(2, runs - 2), fresh=0),
    }


def _ttft_memory(home: str, model: Path, threads: int, runs: int, fresh: int, typed: bool = False) -> dict[str, Any]:
    """``typed``: the last question is typed in the TUI, whose pause in typing pre-loads what the draft recalls
    (``ChatService.anticipate(draft=...)``); otherwise it is sent at once (pasted, or the plain REPL)."""
    rt, service = _service(home, threads)
    rt.settings.memory.fresh_per_turn = fresh
    service.warm()
    rt.layers.episodic.embedder.load()
    bare = _bare(model, threads, rt.engine.n_ctx)
    pmem_t, bare_t, memories, prompt_tokens = [], [], [], []
    for _ in range(runs):
        service.new_session()
        history: list[dict] = [{"role": "system", "content": SYSTEM}]
        bare.reset()
        for text in HISTORY:
            "".join(service.send(text, max_tokens=24))
            history.append({"role": "user", "content": text})
            _, _, _ = _bare_stream(bare, history, 24)
            history.append({"role": "assistant", "content": service.history[-1]["content"]})
            rt.layers.flush()  # the user reads the reply and types: background work and anticipation happen here
            service.anticipate()
        if typed:
            service.anticipate(draft=QUESTION)
        "".join(service.send(QUESTION, max_tokens=8))
        pmem_t.append(service.last.stats.ttft_s)
        memories.append(len(service.last.prompt.memories))
        prompt_tokens.append(service.last.stats.prompt_eval_tokens)
        history.append({"role": "user", "content": QUESTION})
        ttft, _, _ = _bare_stream(bare, history, 8)
        bare_t.append(ttft)
    rt.close()
    return {
        "pmem_ttft_s": _median(pmem_t),
        "bare_ttft_s": _median(bare_t),
        "ratio": round(_median(pmem_t) / _median(bare_t), 3),
        "memories_in_prompt": statistics.median(memories),
        "pmem_tokens_evaluated": statistics.median(prompt_tokens),
        "profile_facts": 15,
        "fresh_per_turn": fresh,
        "typed": typed,
    }


# ---------------------------------------------------------------- restart, background, writes


def _ask_ttft(home: str, question: str) -> float:
    env = {**os.environ, **bench_environ(home)}
    out = subprocess.run([*PMEM, "ask", "--stats", "--max-tokens", "4", question], capture_output=True, text=True, env=env, check=True)
    line = out.stderr.strip().splitlines()[-1]
    return float(line.split("first token ")[1].split("s,")[0])


def ttft_after_restart(runs: int) -> dict[str, Any]:
    """A profile of ~1,000 tokens; `pmem ask` in new processes with and without the saved prefix state."""
    from pmem.core.config import resolve_paths
    from pmem.core.profile.store import ProfileStore
    from pmem.core.store.db import connect

    home = _home()
    paths = resolve_paths({"PMEM_HOME": home})
    paths.ensure_data_dir()
    conn = connect(paths.database)
    store = ProfileStore(conn)
    for i in range(60):
        store.set("preferences.likes", f"topic number {i} and its many interesting details")
    conn.close()
    _ask_ttft(home, "warm up")  # computes and saves the prefix state
    restored = [_ask_ttft(home, f"Question {i}?") for i in range(runs)]
    cold = []
    for i in range(runs):
        shutil.rmtree(Path(home) / "cache" / "kv", ignore_errors=True)
        cold.append(_ask_ttft(home, f"Cold question {i}?"))
    return {"restored_s": _median(restored), "without_saved_state_s": _median(cold)}


def ttft_background(model: Path, threads: int, runs: int) -> dict[str, Any]:
    """First-token time of a turn while profile extraction (the model pass) is pending vs idle."""
    home = _home()
    rt, service = _service(home, threads, use_model="always")
    service.warm()
    rt.layers.episodic.embedder.load()
    idle, busy = [], []
    long_message = "I moved to Lisbon and started at Feedzai; my partner Sam and I adopted a cat called Miso. " * 3
    for i in range(runs):
        for pending in (False, True):  # the same conversation shape both times; only the background differs
            service.new_session()
            "".join(service.send(f"Hello, this is run {i}.", max_tokens=4))
            rt.layers.flush()
            if pending:
                user = rt.journal.add_turn(service.session.id, "user", long_message)
                rt.layers.profile.learn_in_background(user)
                time.sleep(0.05)  # let the extraction start its prompt evaluation
            "".join(service.send(f"How are you today, run {i}?", max_tokens=4))
            (busy if pending else idle).append(service.last.stats.ttft_s)
            rt.layers.flush()
    rt.layers.flush()
    rt.close()
    return {"idle_s": _median(idle), "extraction_pending_s": _median(busy), "ratio": round(_median(busy) / _median(idle), 3)}


BARE_ASK = r"""
import sys
from pmem.core.engine.llama_compat import import_llama_cpp
from pmem.core.models import embedded_chat_model
llama = import_llama_cpp().Llama(model_path=str(embedded_chat_model()), n_ctx=4096, n_threads=2, n_threads_batch=2, verbose=False)
for chunk in llama.create_chat_completion(messages=[{"role": "user", "content": sys.argv[1]}], max_tokens=4, stream=True):
    if chunk["choices"][0]["delta"].get("content"):
        sys.stdout.write(chunk["choices"][0]["delta"]["content"])
        sys.stdout.flush()
        break
"""


def _first_output_s(args: list[str], env: dict[str, str]) -> float:
    """Wall-clock from starting ``args`` to the first character it writes to stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    proc.stdout.read(1)
    elapsed = time.perf_counter() - started
    proc.stdout.read()
    proc.wait()
    return elapsed


def ask_cold(runs: int) -> dict[str, Any]:
    """``pmem ask`` in a new process on a store with memory (300 past exchanges and 15 facts, as ``ttft_memory``):
    wall-clock from the command to the first character of its answer, after one earlier ``ask`` (a first use
    exports the embedder and saves the prompt prefix). Beside it, bare llama-cpp-python started the same way
    (Python, import, model load, first token of the question alone)."""
    home = _home()
    if (SHARED / "data" / "locomo" / "locomo10.json").exists():
        _seed_memory(home)
    env = {**os.environ, **bench_environ(home)}
    ask = [*PMEM, "ask", "--max-tokens", "4"]
    _first_output_s([*ask, "Hello there."], env)
    pmem_s = [_first_output_s([*ask, QUESTION], env) for _ in range(runs)]
    bare_s = [_first_output_s([sys.executable, "-c", BARE_ASK, QUESTION], env) for _ in range(runs)]
    return {"pmem_s": _median(pmem_s), "bare_s": _median(bare_s), "ratio": round(_median(pmem_s) / _median(bare_s), 3)}


def write_critical(samples: int) -> dict[str, Any]:
    from pmem.core.config import resolve_paths
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal

    paths = resolve_paths({"PMEM_HOME": _home()})
    paths.ensure_data_dir()
    journal = Journal(connect(paths.database))
    session = journal.new_session()
    times = []
    for i in range(samples):
        t = time.perf_counter()
        journal.add_turn(session.id, "user", f"message number {i} with a little text in it")
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": _median(times), "p95_ms": round(sorted(times)[int(len(times) * 0.95) - 1], 3)}


def _wall(args: list[str], runs: int, home: str) -> float:
    return _median(wall_seconds([args] * runs, home))


def startup(runs: int, cold_runs: int = 3) -> dict[str, Any]:
    home = _home()
    env = {**os.environ, **bench_environ(home)}
    for key, value in (("identity.name", "Ada"), ("location.city", "Utrecht"), ("preferences.likes", "jazz")):
        subprocess.run([*PMEM, "profile", "set", key, value], env=env, check=True, capture_output=True)
    exe = str(Path(sys.executable).parent / "pmem")
    return {
        "help_s": _wall([exe, "--help"], runs, home),
        "profile_show_s": _wall([exe, "profile", "show"], runs, home),
        "memory_search_cold_s": _wall([exe, "memory", "search", "jazz"], cold_runs, home),
    }


def import_throughput(limit: int | None = None) -> dict[str, Any]:
    from pmem.core.config import resolve_paths
    from pmem.core.memory.service import MemoryService
    from pmem.core.profile.service import ProfileService
    from pmem.core.store.db import connect
    from pmem.core.store.journal import Journal
    from pmem.core.transfer import import_sessions, parse

    from bench.locomo_retrieval import DEFAULT_DATA, to_generic

    samples = json.loads(DEFAULT_DATA.read_text())[:limit]
    generic = {"sessions": [s for sample in samples for s in to_generic(sample)[0]["sessions"]]}
    paths = resolve_paths({"PMEM_HOME": _home()})
    paths.ensure_data_dir()
    conn = connect(paths.database)
    memory = MemoryService(bench_settings(), paths, conn)
    memory.embedder.load()  # loading the embedder is start-up, not throughput
    t = time.perf_counter()
    kind, sessions = parse(generic)
    summary = import_sessions(Journal(conn), kind, sessions)
    journal_s = time.perf_counter() - t
    # The profile learns from the imported user turns, as ``pmem import`` does (patterns; issue #13: >= 200 turns/s).
    learned = ProfileService(conn, None, use_model=False).learn_history(summary.session_ids)
    profile_s = time.perf_counter() - t - journal_s
    memory.reconcile()
    memory.index_pending()
    total_s = time.perf_counter() - t
    memory.close()
    return {
        "turns": summary.turns_added,
        "journal_turns_per_s": round(summary.turns_added / journal_s, 1),
        "profile_turns_per_s": round(summary.turns_added / profile_s, 1),
        "facts_learned": len(learned),
        "with_indexing_turns_per_s": round(summary.turns_added / total_s, 1),
    }


RSS_CHILD = r"""
import os, resource, sys
from pmem.core.chat import ChatService
from pmem.core.runtime import Runtime
rt = Runtime.load()
rt.settings.chat.max_tokens = 32
service = ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=rt.layers)
service.warm()
for text in ["Hi, I'm Ada and I live in Utrecht.", "What could I cook tonight?", "Where do I live?"]:
    "".join(service.send(text))
rt.layers.flush()
rt.close()
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a large
# parent (this benchmark, with models loaded) would report the parent's peak, not its own.
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""


def chat_rss() -> float:
    env = {**os.environ, **bench_environ(_home())}
    out = subprocess.run([sys.executable, "-c", RSS_CHILD], capture_output=True, text=True, env=env, check=True)
    return round(int(out.stdout.strip().splitlines()[-1]) / 1024, 1)


def run(quick: bool, only: list[str] | None = None) -> dict[str, Any]:
    from pmem.core.models import embedded_chat_model

    model = embedded_chat_model()
    assert model is not None
    threads = min(os.cpu_count() or 2, 8)
    runs = 2 if quick else 5
    result: dict[str, Any] = {}
    steps = [
        ("gen", lambda: gen_tps(model, threads, runs, 64 if quick else 128)),
        ("ttft_memory", lambda: ttft_memory(model, threads, runs, quick)),
        ("restart", lambda: ttft_after_restart(runs)),
        ("ask_cold", lambda: ask_cold(3 if quick else 5)),
        ("background", lambda: ttft_background(model, threads, 2 if quick else 5)),
        ("write", lambda: write_critical(100 if quick else 500)),
        ("startup", lambda: startup(5 if quick else 10, 1 if quick else 3)),
        ("rss", chat_rss),
    ]
    if (SHARED / "data" / "locomo" / "locomo10.json").exists():
        steps.append(("import", lambda: import_throughput(2 if quick else None)))
    for name, step in steps:
        if only and name not in only:
            continue
        t = time.perf_counter()
        result[name] = step()
        print(f"{name}: {result[name]} ({time.perf_counter() - t:.0f} s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Fewer repetitions (a smoke run).")
    parser.add_argument("--out", type=Path, default=RESULTS / "perf_detail.json")
    parser.add_argument("--only", nargs="+", help="Re-run only these steps and update the existing result file.")
    args = parser.parse_args()
    result = run(args.quick, args.only)
    if args.only and args.out.exists():
        result = {**json.loads(args.out.read_text()), **result}
    result["machine"] = machine()
    write_json(args.out, result)


if __name__ == "__main__":
    main()
