"""Run every benchmark, write bench/results/perf.json, plot retrieval latency, and rewrite the
results section of bench/README.md.

    python -m bench.run_all            # everything (~15 minutes on 2 cores)
    python -m bench.run_all --quick    # a smoke run: fewer repetitions, smaller data (under 3 minutes)

To stay within 15 minutes, two benchmarks run here on part of what they can measure: the answer benchmark on its
quick sample (50 LoCoMo questions and the persona) with and without memory (its 200-question headline and the
profile-only and retrieval-only conditions: ``python -m bench.answer_eval``), and the profile benchmark with the
patterns alone, pmem's default with the embedded model (the 135M model's rows, ~3 minutes more:
``python -m bench.profile_extraction``).

A quick run writes to ``results/quick/`` and prints its table instead of rewriting bench/README.md, so a
smoke run never replaces the figures of a full one.

Each benchmark runs in its own process (its memory is returned, a failure is reported, not fatal).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from bench.harness import BENCH, RESULTS, machine, write_json

START = "<!-- results:start -->"
END = "<!-- results:end -->"


def _run(script: str, *args: str) -> bool:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", f"bench.{script.removesuffix('.py')}", *args], cwd=BENCH.parent)
    print(f"== {script} {' '.join(args)}: {'ok' if proc.returncode == 0 else 'FAILED'} in {time.perf_counter() - started:.0f} s", flush=True)
    return proc.returncode == 0


def _load(name: str, where: Path = RESULTS) -> dict[str, Any]:
    path = where / name
    return json.loads(path.read_text()) if path.exists() else {}


def plot_latency(latency: dict[str, Any], out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot", flush=True)
        return
    sizes = sorted(int(n) for n in latency.get("p50_ms", {}))
    if not sizes:
        return
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax.plot(sizes, [latency["p50_ms"][str(n)] for n in sizes], marker="o", label="p50")
    ax.plot(sizes, [latency["p95_ms"][str(n)] for n in sizes], marker="o", label="p95")
    ax.axhline(30, color="grey", linestyle="--", linewidth=1, label="target p95 (30 ms)")
    ax.set_xscale("log")
    ax.set_xlabel("memories")
    ax.set_ylabel("search latency (ms)")
    ax.set_title("Query embedding + hybrid search, 2 CPU cores")
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def summary(perf: dict[str, Any], latency: dict[str, Any], tui: dict[str, Any]) -> dict[str, Any]:
    ttft = perf.get("ttft_memory", {})
    return {
        "gen_tps_ratio": perf.get("gen", {}).get("ratio"),
        "ttft_memory_ratio": ttft.get("typed", {}).get("ratio"),
        "ttft_memory_ratio_sent_at_once": ttft.get("default", {}).get("ratio"),
        "ttft_memory_ratio_anticipated_only": ttft.get("anticipated_only", {}).get("ratio"),
        "ttft_after_restart_s": perf.get("restart", {}).get("restored_s"),
        "ttft_after_restart_without_saved_state_s": perf.get("restart", {}).get("without_saved_state_s"),
        "ask_cold_s": perf.get("ask_cold", {}).get("pmem_s"),
        "ask_cold_bare_s": perf.get("ask_cold", {}).get("bare_s"),
        "ttft_background_ratio": perf.get("background", {}).get("ratio"),
        "retrieval_p95_ms": latency.get("p95_ms", {}),
        "retrieval_p50_ms": latency.get("p50_ms", {}),
        "write_critical_ms": perf.get("write", {}).get("median_ms"),
        "help_s": perf.get("startup", {}).get("help_s"),
        "profile_show_s": perf.get("startup", {}).get("profile_show_s"),
        "memory_search_cold_s": perf.get("startup", {}).get("memory_search_cold_s"),
        "memory_search_cold_10k_s": latency.get("cli_search_cold_s", {}).get("10000"),
        "tui_first_paint_s": tui.get("first_paint_s"),
        "tui_first_token_s": tui.get("first_token_s"),
        "import_turns_per_s": perf.get("import", {}).get("with_indexing_turns_per_s"),
        "import_journal_turns_per_s": perf.get("import", {}).get("journal_turns_per_s"),
        "import_profile_turns_per_s": perf.get("import", {}).get("profile_turns_per_s"),
        "chat_peak_rss_mb": perf.get("rss"),
        "machine": machine(),
    }


def _fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def tables(
    s: dict[str, Any], perf: dict[str, Any], locomo: dict[str, Any], profile: dict[str, Any], distill: dict[str, Any], quick: bool
) -> str:
    m = s["machine"]
    gen = perf.get("gen", {})
    tt = perf.get("ttft_memory", {})
    d, a, t = tt.get("default", {}), tt.get("anticipated_only", {}), tt.get("typed", {})
    bg = perf.get("background", {})
    rows = [
        f"*Written by `python -m bench.run_all{' --quick' if quick else ''}` on {m['cores']} cores ({m['cpu']}), "
        f"{m['memory_gib']} GiB; Python {m['python']}. Medians.*",
        "",
        "| measure | pmem | baseline / target | result |",
        "| --- | --- | --- | --- |",
        f"| generation speed (tokens/s) | {_fmt(gen.get('pmem_tps'), digits=1)} | bare llama-cpp-python {_fmt(gen.get('bare_tps'), digits=1)} | ratio **{_fmt(s['gen_tps_ratio'], digits=3)}** (target ≥ 0.97) |",
        f"| first token, turn with profile + memories + 3 recent turns, question typed in the TUI (a pause in typing pre-loads its memories) | {_fmt(t.get('pmem_ttft_s'), ' s')} ({_fmt(t.get('pmem_tokens_evaluated'), digits=0)} tokens evaluated, {_fmt(t.get('memories_in_prompt'), digits=0)} memories) | bare, same turns, no memory {_fmt(t.get('bare_ttft_s'), ' s')} | ratio **{_fmt(s['ttft_memory_ratio'])}** (target ≤ 1.10) |",
        f"| same, question sent at once (pasted, or `--plain`; up to 3 memories for it read after sending) | {_fmt(d.get('pmem_ttft_s'), ' s')} ({_fmt(d.get('pmem_tokens_evaluated'), digits=0)} tokens evaluated) | {_fmt(d.get('bare_ttft_s'), ' s')} | ratio **{_fmt(s.get('ttft_memory_ratio_sent_at_once'))}** (issue #14: ≤ 3) |",
        f"| same, anticipated memories only (`memory.fresh_per_turn = 0`) | {_fmt(a.get('pmem_ttft_s'), ' s')} ({_fmt(a.get('pmem_tokens_evaluated'), digits=0)} tokens evaluated, {_fmt(a.get('memories_in_prompt'), digits=0)} memories) | {_fmt(a.get('bare_ttft_s'), ' s')} | ratio **{_fmt(s['ttft_memory_ratio_anticipated_only'])}** |",
        f"| first token after a restart, ~1,000-token profile | {_fmt(s['ttft_after_restart_s'], ' s')} (saved prefix state restored) | {_fmt(s['ttft_after_restart_without_saved_state_s'], ' s')} without it | |",
        f"| `pmem ask` in a new process, store with 300 past exchanges and 15 facts: command to first character | {_fmt(s['ask_cold_s'], ' s')} | bare llama-cpp-python started the same way {_fmt(s['ask_cold_bare_s'], ' s')}; issue #14: ≤ 1.5 s | |",
        f"| first token with profile extraction (model pass) pending | {_fmt(bg.get('extraction_pending_s'), ' s')} | {_fmt(bg.get('idle_s'), ' s')} idle | ratio {_fmt(s['ttft_background_ratio'])} |",
        f"| journal commit of a user turn (critical path) | {_fmt(s['write_critical_ms'], ' ms', 3)} | target ≤ 50 ms | |",
        f"| `pmem --help` | {_fmt(s['help_s'], ' s', 3)} | target ≤ 0.3 s | |",
        f"| `pmem profile show` | {_fmt(s['profile_show_s'], ' s', 3)} | target ≤ 0.5 s | |",
        f"| `pmem memory search` cold (loads the embedder, opens the store), a 3-fact store / a 10k-memory store | {_fmt(s['memory_search_cold_s'], ' s')} / {_fmt(s['memory_search_cold_10k_s'], ' s')} | issue #14: ≤ 1.0 s on a 10k-memory store | |",
        f"| TUI first paint / first token of a first question | {_fmt(s['tui_first_paint_s'], ' s')} / {_fmt(s['tui_first_token_s'], ' s')} | ≤ 1.5 s / ≤ 3 s | |",
        f"| import of LoCoMo ({_fmt(perf.get('import', {}).get('turns'), digits=0)} turns), with profile learning, embedding and indexing | {_fmt(s['import_turns_per_s'], ' turns/s', 0)} | issue #14: ≥ 600 turns/s; issue #13: ≥ 200 with profile learning | journal alone {_fmt(s['import_journal_turns_per_s'], ' turns/s', 0)}; profile learning alone {_fmt(s.get('import_profile_turns_per_s'), ' turns/s', 0)} |",
        f"| peak RSS of a 3-turn chat, every memory layer on | {_fmt(s['chat_peak_rss_mb'], ' MB', 0)} | issue #14: ≤ 450 MB | |",
        "",
        "Retrieval latency (query embedding + hybrid search), see `results/retrieval_latency.png`:",
        "",
        "| memories | p50 | p95 |",
        "| --- | --- | --- |",
    ]
    for n in sorted(s["retrieval_p95_ms"], key=int):
        rows.append(f"| {int(n):,} | {s['retrieval_p50_ms'][n]} ms | {s['retrieval_p95_ms'][n]} ms |")
    if locomo.get("configs"):
        rows += locomo_tables(locomo)
    if profile:
        rows += ["", "Profile extraction (`profile_extraction.py`): precision / recall of the facts each frozen set expects. "
                 "\"first read\" is the rules' figure the one time the set was out of sample (it was written before the "
                 "changes it judged); its misses were read afterwards, so \"now\" measures fit. Rules are pmem's default; "
                 "\"model\" is the embedded 135M model alone; stale: a superseded fact shown as current (rules).", "",
                 "| set (facts) | first read, rules | now, rules | now, model | now, rules + model | stale | traps stored |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        first_reads = {
            "frozen14": "0.77 / 0.40", "frozen13": "0.85 / 0.44", "frozen12": "0.92 / 0.44", "frozen11": "0.75 / 0.39",
            "frozen10": "0.78 / 0.47", "frozen9": "0.55 / 0.20", "frozen8": "0.78 / 0.47", "frozen7": "0.72 / 0.43",
            "frozen6": "0.72 / 0.43", "frozen5": "0.72 / 0.68", "frozen4": "–", "frozen3": "–", "frozen2": "–", "frozen": "–",
        }
        for n, key in enumerate(("frozen14", "frozen13", "frozen12", "frozen11", "frozen10", "frozen9", "frozen8", "frozen7",
                                 "frozen6", "frozen5", "frozen4", "frozen3", "frozen2", "frozen")):
            modes = profile.get(key, {})
            if not modes.get("rules"):
                continue

            def pr(mode: str) -> str:
                r = modes.get(mode)
                return f"{_fmt(r.get('precision'))} / {_fmt(r.get('recall'))}" if r else "–"

            rules = modes["rules"]
            rows.append(f"| frozen {14 - n} ({rules.get('expected_facts')}) | {first_reads[key]} | {pr('rules')} | {pr('model')} | "
                        f"{pr('rules+model')} | {rules.get('stale_superseded_shown_as_current')} | {rules.get('trap_values_stored')} |")
        for key, label in (("dev", "development set"), ("dev2", "second development set"), ("dev3", "third development set")):
            r = profile.get(key, {}).get("rules")
            if r:
                rows.append(f"| {label}, tuned on ({r.get('expected_facts')}) | – | {_fmt(r.get('precision'))} / {_fmt(r.get('recall'))} | – | – | "
                            f"{r.get('stale_superseded_shown_as_current')} | {r.get('trap_values_stored')} |")
        for key, label in (("held_out_5_9", "LoCoMo 5–9, from `pmem import`"), ("tune_0_4", "LoCoMo 0–4, from `pmem import`"),
                           ("held_out_5_9_with_model", "LoCoMo 5–9, the embedded model reading every turn too, as `pmem profile rebuild --model` does")):
            r = profile.get("locomo", {}).get(key)
            if r:
                took = f"{r['seconds_learning']} s for {r['user_turns']} turns" if "seconds_learning" in r else "–"
                rows.append(f"| {label} ({r.get('stable_observations')} stable observations; {took}) | – | "
                            f"{_fmt(r.get('precision_proxy'), digits=3)} (proxy) / {_fmt(r.get('recall'), digits=3)} | – | – | – | – |")
        for mode in ("rules", "model", "rules+model"):
            r = profile.get(mode)
            if r:
                rows.append(f"| old scripted conversation (a fit check), {mode} | – | {_fmt(r.get('precision'))} / {_fmt(r.get('recall'))} | "
                            f"– | – | {r.get('stale_superseded_shown_as_current')} | – |")
    if distill:
        ll, acc = distill.get("loglik", {}), distill.get("accuracy", {})
        rows += [
            "",
            f"Parametric memory (`distill_eval.py`): {distill.get('questions')} held-out questions about a synthetic user "
            f"({distill.get('facts')} facts, {distill.get('memories')} memories); adapter trained in {_fmt(distill.get('train_s'), ' s', 0)} "
            f"({distill.get('examples')} examples × {distill.get('epochs')} epochs), {_fmt(distill.get('adapter_mb'), ' MB', 1)}; "
            f"peak RSS of the distilling process {_fmt(distill.get('distill_peak_rss_mb'), ' MB', 0)} (issue #14: ≤ 1.5 GB):",
            "",
            "| condition | mean log-likelihood of the answer | accuracy (greedy reply contains the fact) |",
            "| --- | --- | --- |",
        ]
        for key, label in (("base", "base model"), ("adapter", "base + adapter"), ("rag", "base + profile and retrieval (pmem without adapter)"),
                           ("rag_adapter", "base + profile and retrieval + adapter (pmem)")):
            rows.append(f"| {label} | {_fmt(ll.get(key), digits=3)} | {_fmt(acc.get(key), digits=3)} |")
    return "\n".join(rows)


def _before() -> dict[str, Any]:
    """The retrieval before this rework (one vector per exchange, reciprocal-rank fusion), measured by that commit's
    own benchmark on each half (results/locomo_retrieval_before.json)."""
    return _load("locomo_retrieval_before.json", RESULTS)


def locomo_tables(locomo: dict[str, Any]) -> list[str]:
    final = locomo["configs"]["final"]
    labels = {
        "strict@10": "strict R@10, 10 memories (pmem's unit, ≤ ~20 turns)",
        "strict@5": "strict R@5, 5 memories",
        "any@10": "any-evidence R@10, 10 memories",
        "session@5": "session R@5",
        "strict_turns@10": "strict R@10 turns (a true 10-turn budget: the 10 best turns)",
        "strict_turns_expanded@10": "strict, 10 memories expanded and cut at 10 turns",
        "published@10": "published-style R@10 (top 10 turns, fractional recall, all 5 categories; LoCoMo paper, DRAGON: 0.675)",
    }
    rows = ["", f"LoCoMo retrieval ({locomo.get('conversations')} conversations, categories 1–4 unless said; weights tuned and the "
            "embedder's tuning taught on conversations 0–4 only, so **5–9 (held out) is the figure to read**: 0–4 and all 10 "
            "include the tuning's own training questions; strict = all evidence turns retrieved):", "",
            "| metric | all 10 | 0–4 (tuned and trained on) | 5–9 (held out) | before, all 10 (64c3d85) |", "| --- | --- | --- | --- | --- |"]
    before_keys = {"strict@10": "turn_recall@10", "strict@5": "turn_recall@5", "any@10": "turn_recall_any@10", "session@5": "session_recall@5"}
    for key, label in labels.items():
        old = _before().get("all", {}).get(before_keys.get(key, ""), {}).get("1-4")
        rows.append(f"| {label} | " + " | ".join(_fmt(final.get(split, {}).get(key), digits=3) for split in ("all", "0-4", "5-9"))
                    + f" | {_fmt(old, digits=3) if old is not None else '—'} |")
    cats = final.get("all", {}).get("strict@10_by_category", {})
    rows += ["", "| strict R@10 by category | cat 1 multi-hop | cat 2 temporal | cat 3 open-domain | cat 4 single-hop | cat 5 adversarial |",
             "| --- | --- | --- | --- | --- | --- |",
             "| all 10 | " + " | ".join(_fmt(cats.get(c), digits=3) for c in "12345") + " |"]
    rows += ["", "Ablation (each row down to pmem's retrieval adds one step to the row above it; the rows below it change pmem's retrieval in one way: a step tried and not kept, or one retriever alone; same index, same run, all with the tuned embedder at dense 0.6, so 0–4 and all 10 include the tuning's training questions; what the tuning gives against the model as shipped before is `results/locomo_embedder_tuning.json`):", "",
             "| configuration | strict R@10 0–4 | strict R@10 5–9 | 10-turn budget, all | published-style, all |",
             "| --- | --- | --- | --- | --- |",
             "| before this rework: one vector per exchange, RRF (64c3d85) | "
             f"{_fmt(_before().get('0-4', {}).get('turn_recall@10', {}).get('1-4'), digits=3)} | "
             f"{_fmt(_before().get('5-9', {}).get('turn_recall@10', {}).get('1-4'), digits=3)} | not measured | not measured |"]
    ablation = [(n, b) for n, b in locomo["configs"].items() if n != "final"]
    after_steps = 1 + max(i for i, (name, _) in enumerate(ablation) if name.startswith("+ "))  # the steps add up to it
    ablation.insert(after_steps, ("+ 300 dense candidates: pmem's retrieval (tuned embedder, dense 0.6, lexical 0.4)", final))
    for name, block in ablation:
        rows.append(f"| {name} | {_fmt(block['0-4']['strict@10'], digits=3)} | {_fmt(block['5-9']['strict@10'], digits=3)} | "
                    f"{_fmt(block['all']['strict_turns@10'], digits=3)} | {_fmt(block['all']['published@10'], digits=3)} |")
    return rows


def rewrite_readme(text: str) -> None:
    readme = BENCH / "README.md"
    current = readme.read_text()
    block = f"{START}\n{text}\n{END}"
    if START in current and END in current:
        head, rest = current.split(START, 1)
        _, tail = rest.split(END, 1)
        readme.write_text(head + block + tail)
    else:
        readme.write_text(current.rstrip() + "\n\n## Latest results\n\n" + block + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--report-only", action="store_true", help="Rebuild perf.json, the plot and the tables from existing results.")
    args = parser.parse_args()
    started = time.perf_counter()
    quick = args.quick
    where = RESULTS / "quick" if quick else RESULTS

    def out(name: str) -> tuple[str, str]:
        return "--out", str(where / name)

    if not args.report_only:
        _run("perf.py", *(["--quick"] if quick else []), *out("perf_detail.json"))
        _run("retrieval_latency.py", "--sizes", *(["1000", "10000"] if quick else ["1000", "10000", "100000"]),
             "--queries", "100" if quick else "200", *out("retrieval_latency.json"))
        _run("tui_startup.py", "--runs", "2" if quick else "5", *out("tui_startup.json"))
        if quick:  # a smoke run of the answer path: 15 LoCoMo questions, with and without memory
            _run("answer_eval.py", "--questions", "15", "--set", "locomo", "--framings", "chosen", "--conditions", "none,both",
                 *out("answer_eval_quick.json"))
        else:
            _run("answer_eval.py", "--quick", "--framings", "chosen", "--conditions", "none,both",
                 *out("answer_eval_quick.json"))
        if not quick:
            _run("locomo_retrieval.py", "--ablation", *out("locomo_retrieval.json"))
            _run("profile_extraction.py", "--modes", "rules", *out("profile_extraction.json"))
            _run("distill_eval.py", *out("distill_eval.json"))
    perf, latency, tui = _load("perf_detail.json", where), _load("retrieval_latency.json", where), _load("tui_startup.json", where)
    result = summary(perf, latency, tui)
    if not args.report_only:
        result["run_s"] = round(time.perf_counter() - started, 1)
    elif "run_s" in _load("perf.json", where):
        result["run_s"] = _load("perf.json", where)["run_s"]
    write_json(where / "perf.json", result)
    plot_latency(latency, where / "retrieval_latency.png")
    text = tables(result, perf, _load("locomo_retrieval.json", where), _load("profile_extraction.json", where),
                  _load("distill_eval.json", where), quick)
    answers = _load("answer_eval_quick.json", where)
    if answers.get("table"):
        sample = ("15 LoCoMo questions from conversations 5–9" if quick
                  else "50 LoCoMo questions from conversations 5–9 and the persona")
        text += (f"\n\nAnswers through the chat path (`answer_eval.py`: {sample}; greedy, replies ≤ {answers['settings']['max_tokens']} tokens; LoCoMo token F1; "
                 f"{answers['settings']['model']}):\n\n" + answers["table"].rstrip())
    if quick:
        print(text)
    else:
        rewrite_readme(text)
    print(f"all benchmarks in {time.perf_counter() - started:.0f} s; summary in {where / 'perf.json'}")

if __name__ == "__main__":
    main()
