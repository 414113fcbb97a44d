"""Parametric memory: real training (peft on CPU), real GGUF export, real llama.cpp loading the adapter.

Dequantizing the GGUF into a dense transformers model takes ~15 s, so one dense copy is made per test
session and hard-linked into each test's cache, where pmem looks for it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_one_line_error, run_pmem, share_dense

pytestmark = pytest.mark.slow

pytest.importorskip("peft", reason="the distill extra is not installed")

FACTS = [
    ("identity.name", "Ada Quist"),
    ("location.city", "Utrecht"),
    ("work.employer", "Fokker Labs"),
    ("pets.dog", "Pixel"),
    ("people.sister", "Maren"),
    ("preferences.favourite_colour", "teal"),
]
SYSTEM = "You are pmem, a helpful assistant running privately on the user's own computer. Answer concisely and truthfully."


def _runtime(home: Path, dense_cache: Path, **distill: object):  # type: ignore[no-untyped-def]
    from pmem.core.config import with_overrides
    from pmem.core.runtime import Runtime

    share_dense(dense_cache, home)
    rt = Runtime.load()
    rt.settings = with_overrides(rt.settings, **{f"distill__{k}": v for k, v in distill.items()})
    return rt


def _teach(rt) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The facts, set the way `pmem profile set` does; returns value -> fact id."""
    return {value: rt.profile.store.set(key, value).fact.id for key, value in FACTS}


def _last_logits(llama, tokens: list[int]):  # type: ignore[no-untyped-def]
    from pmem.core.engine.llama_compat import import_llama_cpp
    llama_cpp = import_llama_cpp()
    import numpy as np

    llama.reset()
    llama.eval(tokens)
    row = llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1)
    return np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).astype(np.float64)


def _kl(p_logits, q_logits) -> float:  # type: ignore[no-untyped-def]
    import numpy as np

    def logsoftmax(x):  # type: ignore[no-untyped-def]
        x = x - x.max()
        return x - np.log(np.exp(x).sum())

    lp, lq = logsoftmax(p_logits), logsoftmax(q_logits)
    return float((np.exp(lp) * (lp - lq)).sum())


# ----------------------------------------------------------------------------- export layout


@pytest.fixture(scope="module")
def trained(dense_cache: Path, embedded_model: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A LoRA trained a few steps on real examples, kept as the peft model and exported both ways:
    with the q/k permutation llama.cpp needs, and (to show the test can tell) without it."""
    from pmem.core.distill import export
    from pmem.core.distill.base import load_dense_base
    from pmem.core.distill.dataset import Example
    from pmem.core.distill.train import lora_state, tokenize, train_lora
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.models import model_fingerprint, read_gguf_info

    base, cached = load_dense_base(embedded_model, dense_cache, model_fingerprint(embedded_model))
    assert cached
    examples = [Example(q, a) for q, a in [
        ("What is my name?", "You are called Ada Quist."), ("Where do I live?", "You live in Utrecht."),
        ("Where do I work?", "You work at Fokker Labs."), ("What is my dog called?", "Your dog is called Pixel."),
    ]] * 2
    vocab = LlamaCppEngine(embedded_model, vocab_only=True)
    data = tokenize(examples, vocab, SYSTEM)
    vocab.close()
    result = train_lora(base, data, rank=8, alpha=16, epochs=3, learning_rate=2e-3, threads=2, batch_size=4)
    info = read_gguf_info(embedded_model)
    state = lora_state(result.model)
    out = tmp_path_factory.mktemp("adapters")
    paths = {}
    for name, arch in (("right", info.architecture), ("unpermuted", "no-permute")):
        tensors = export.gguf_tensors(state, architecture=arch, n_head=base.config.num_attention_heads, n_head_kv=base.config.num_key_value_heads)
        paths[name] = out / f"{name}.gguf"
        export.write_adapter(paths[name], tensors, architecture=info.architecture, alpha=16, metadata={})
    return result, paths, data


def test_the_lean_loss_and_its_one_example_at_a_time_gradient_equal_the_full_ones(trained) -> None:  # type: ignore[no-untyped-def]
    """Training projects only the answer positions onto the vocabulary and runs one example at a time (to hold
    a fraction of the memory); the loss and the gradient must be those of the plain full-batch computation."""
    import torch

    from pmem.core.distill.train import _accumulated_backward, _batch_loss, _pad

    result, _, data = trained
    model, batch = result.model, data[:4]
    ids, labels, mask = _pad(batch, 0)
    params = [p for p in model.parameters() if p.requires_grad]
    model.zero_grad(set_to_none=True)
    full = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), labels=torch.tensor(labels)).loss
    full.backward()
    reference = [p.grad.clone() for p in params]
    model.zero_grad(set_to_none=True)
    lean = _accumulated_backward(model, batch, 0)
    assert abs(float(lean) - float(full.detach())) < 1e-4
    assert abs(float(_batch_loss(model, batch, 0).detach()) - float(full.detach())) < 1e-4
    worst = max(float((p.grad - r).abs().max() / (r.abs().max() + 1e-12)) for p, r in zip(params, reference, strict=True))
    model.zero_grad(set_to_none=True)
    assert worst < 1e-3, worst


def test_llama_cpp_with_the_adapter_agrees_with_transformers_and_peft(trained, embedded_model: Path) -> None:  # type: ignore[no-untyped-def]
    from pmem.core.engine.llama_compat import import_llama_cpp
    llama_cpp = import_llama_cpp()
    import torch

    result, paths, data = trained
    prompts = [d.input_ids[: next(i for i, x in enumerate(d.labels) if x != -100)] for d in data[:4]]
    with torch.no_grad():
        hf = [result.model(input_ids=torch.tensor([p])).logits[0, -1].double().numpy() for p in prompts]
    base = llama_cpp.Llama(model_path=str(embedded_model), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    right = llama_cpp.Llama(model_path=str(embedded_model), lora_path=str(paths["right"]), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    wrong = llama_cpp.Llama(model_path=str(embedded_model), lora_path=str(paths["unpermuted"]), n_ctx=512, n_threads=2, logits_all=True, verbose=False)
    try:
        kl_right = [_kl(h, _last_logits(right, p)) for h, p in zip(hf, prompts)]
        kl_wrong = [_kl(h, _last_logits(wrong, p)) for h, p in zip(hf, prompts)]
        kl_base = [_kl(h, _last_logits(base, p)) for h, p in zip(hf, prompts)]
    finally:
        for llama in (base, right, wrong):
            llama.close()
    mean = sum(kl_right) / len(kl_right)
    # The quantized base differs from the dense weights by ~0.005 nats; a layout error costs far more.
    assert mean < 0.05, kl_right
    assert sum(kl_wrong) / len(kl_wrong) > 4 * mean, (kl_wrong, kl_right)
    assert sum(kl_base) / len(kl_base) > 4 * mean, (kl_base, kl_right)  # and the adapter does change the model


def test_an_adapter_changes_the_logits_and_dropping_it_restores_the_base(trained, embedded_model: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from pmem.core.engine.llama import LlamaCppEngine

    _result, paths, data = trained
    tokens = data[0].input_ids[:20]
    base = LlamaCppEngine(embedded_model, n_ctx=512)
    tuned = LlamaCppEngine(embedded_model, n_ctx=512, lora_path=paths["right"])
    tuned.adapter_id = "a-test"
    try:
        plain = _last_logits(base.llama, tokens)
        adapted = _last_logits(tuned.llama, tokens)
        assert np.abs(plain - adapted).max() > 0.5
        assert tuned.drop_adapter() is True
        assert tuned.lora_path is None and tuned.adapter_id == ""
        assert np.allclose(_last_logits(tuned.llama, tokens), plain, atol=1e-3)
        assert tuned.drop_adapter() is False
    finally:
        base.close()
        tuned.close()


def test_an_interrupted_write_leaves_the_previous_adapter_whole(trained, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import gguf

    from pmem.core.distill.export import write_adapter

    _result, paths, _data = trained
    target = tmp_path / "a-live.gguf"
    target.write_bytes(paths["right"].read_bytes())
    before = target.read_bytes()
    tensors = {t.name: t.data.copy() for t in gguf.GGUFReader(str(paths["unpermuted"])).tensors}

    class Crash(Exception):
        pass

    original = gguf.GGUFWriter.write_tensors_to_file

    def fail_midway(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.fout[0].write(b"\0" * 4096)  # some bytes reach the disk, then the process "dies"
        raise Crash

    gguf.GGUFWriter.write_tensors_to_file = fail_midway  # type: ignore[method-assign]
    try:
        with pytest.raises(Crash):
            write_adapter(target, tensors, architecture="llama", alpha=16, metadata={})
    finally:
        gguf.GGUFWriter.write_tensors_to_file = original  # type: ignore[method-assign]
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-live.gguf"]
    write_adapter(target, tensors, architecture="llama", alpha=16, metadata={})
    assert target.read_bytes() != before and gguf.GGUFReader(str(target)).tensors


# ----------------------------------------------------------------------------- the whole feature


def test_distill_learns_the_profile_and_forgetting_reaches_the_weights(pmem_home: Path, dense_cache: Path) -> None:
    from pmem.core.chat import ChatService
    from pmem.core.engine.base import GenerationParams

    rt = _runtime(pmem_home, dense_cache, epochs=3)
    ids = _teach(rt)
    first = rt.distill.run()
    assert first.adapter is not None, first.skipped
    adapter = first.adapter
    assert rt.distill.active() == adapter
    assert rt.distill.store.sources(adapter.id).facts == set(ids.values())
    assert (pmem_home / "data" / "adapters" / adapter.file).is_file()
    print(f"loss {adapter.first_loss} -> {adapter.final_loss}")
    assert adapter.final_loss is not None and adapter.first_loss is not None and adapter.final_loss < adapter.first_loss / 3
    assert rt.distill.changes() == 0 and not rt.distill.due()

    # The adapter answers a phrasing it never trained on, with no profile or retrieval in the prompt.
    engine = rt.engine
    assert engine.adapter_id == adapter.id
    greedy = GenerationParams(max_tokens=16, temperature=0.0, top_p=1.0, repeat_penalty=1.0, seed=0)
    question = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Remind me, in which town is my home?"}]
    assert "Utrecht" in engine.complete(question, greedy)  # type: ignore[arg-type]

    # A chat that has the adapter loaded stops using it at its next turn once a fact it learned is forgotten
    # (here by another process, as `pmem profile forget` would).
    service = ChatService(settings=rt.settings, paths=rt.paths, engine=engine, journal=rt.journal, recall=rt.layers)
    forget = run_pmem("profile", "forget", "sister", "--yes", home=pmem_home)
    assert forget.returncode == 0, forget.stderr
    assert not (pmem_home / "data" / "adapters" / adapter.file).exists()
    assert rt.distill.store.get(adapter.id).status == "stale"  # type: ignore[union-attr]
    assert rt.distill.active() is None
    list(service.send("hello", max_tokens=4, temperature=0.0))
    assert service.last.note and adapter.id in service.last.note
    assert engine.adapter_id == "" and engine.lora_path is None
    rt.close()

    # A new process loads no adapter, and a retrain is due at once (without waiting for min_new).
    rt = _runtime(pmem_home, dense_cache, epochs=2, auto=True)
    assert rt.engine.adapter_id == ""
    assert rt.distill.due()
    service = ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=rt.layers)
    list(service.send("hello again", max_tokens=4, temperature=0.0))
    assert service.last.note is None and rt.engine.adapter_id == ""
    second = rt.distill.run()  # as a background run would, while this chat goes on
    assert second.adapter is not None
    # The running chat applies the new adapter from its next turn, without reloading the model.
    assert "Utrecht" in "".join(service.send("Remind me, in which town is my home?", max_tokens=16, temperature=0.0, top_p=1.0, repeat_penalty=1.0))
    assert second.adapter.facts == 5
    assert service.last.note == f"now using adapter {second.adapter.id}, distilled from 5 facts and {second.adapter.episodes} memories"
    assert rt.engine.adapter_id == second.adapter.id
    sources = rt.distill.store.sources(second.adapter.id)
    assert ids["Maren"] not in sources.facts and sources.facts == {v for k, v in ids.items() if k != "Maren"}
    assert not any("Maren" in e.question + e.answer for e in rt.distill.dataset().examples)
    assert sorted(p.name for p in (pmem_home / "data" / "adapters").iterdir() if p.suffix == ".gguf") == [second.adapter.file]
    rt.close()


def test_cli_distill_status_off_on_and_the_layer_switches(pmem_home: Path, dense_cache: Path) -> None:
    rt = _runtime(pmem_home, dense_cache)
    _teach(rt)
    rt.close()
    # The default epochs: with fewer, under the grounding adapter (which says "I don't know" to a question asked
    # with no memory), a rare name such as Fokker was not yet learned.
    proc = run_pmem("distill", "--epochs", "6", home=pmem_home, timeout=1200)  # an upper bound for a loaded machine
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Trained adapter a-"), proc.stdout
    assert "6 facts and 0 memories" in proc.stdout and "pmem applies it from the next chat" in proc.stdout
    status = run_pmem("distill", "--status", home=pmem_home)
    assert "Adapters: on" in status.stdout and "Live: a-" in status.stdout and "from 6 facts and 0 memories" in status.stdout

    question = ["ask", "--temperature", "0", "--max-tokens", "16", "--no-memory"]
    tuned = run_pmem(*question, "Remind me which company employs me.", home=pmem_home)
    plain = run_pmem(*question, "--no-adapter", "Remind me which company employs me.", home=pmem_home)
    assert tuned.returncode == plain.returncode == 0
    assert "Fokker" in tuned.stdout and "Fokker" not in plain.stdout, (tuned.stdout, plain.stdout)

    off = run_pmem("distill", "--off", home=pmem_home)
    assert off.stdout.strip() == "Adapters are off: chats use the base model alone."
    assert run_pmem(*question, "Remind me which company employs me.", home=pmem_home).stdout == plain.stdout
    assert "Adapters: off" in run_pmem("distill", "--status", home=pmem_home).stdout
    run_pmem("distill", "--on", home=pmem_home)
    assert run_pmem(*question, "Remind me which company employs me.", home=pmem_home).stdout == tuned.stdout

    # --no-memory wrote nothing: no session, no turn.
    conn = sqlite3.connect(pmem_home / "data" / "pmem.sqlite3")
    assert conn.execute("SELECT count(*) FROM turns").fetchone()[0] == 0
    conn.close()

    cleared = run_pmem("distill", "--clear", home=pmem_home)
    assert cleared.stdout.strip() == "Cleared 1 adapter (1 file deleted)."
    assert not list((pmem_home / "data" / "adapters").glob("*.gguf"))


def test_a_background_run_survives_its_parent_and_a_kill_leaves_no_adapter(
    pmem_home: Path, dense_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime(pmem_home, dense_cache)
    _teach(rt)
    rt.close()
    from pmem.core.config import resolve_paths
    from pmem.core.distill.service import interactive_marker, read_progress

    paths = resolve_paths({"PMEM_HOME": str(pmem_home)})

    def reached(stage: str) -> None:
        """Wait for the run to report ``stage`` (an event of the run, never a fixed time)."""
        deadline = time.time() + 600  # an upper bound for a loaded machine
        while time.time() < deadline:
            state = read_progress(paths.adapters_dir)
            if state is not None and state.stage == stage:
                return
            time.sleep(0.1)
        raise AssertionError(f"the run never reached {stage!r}")

    # Killed mid-training: nothing registered, nothing loadable; the leftovers go at the next sweep.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMEM_") or k == "PMEM_EMBEDDER_EXPORT_DIR"}
    env.update(PMEM_HOME=str(pmem_home), PMEM_DISTILL_EPOCHS="50")
    child = subprocess.Popen([sys.executable, "-m", "pmem", "distill"], env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reached("training")
    child.kill()
    child.wait()
    conn = sqlite3.connect(pmem_home / "data" / "pmem.sqlite3")
    assert conn.execute("SELECT count(*) FROM adapters").fetchone()[0] == 0
    conn.close()
    (paths.adapters_dir / ".progress").unlink(missing_ok=True)  # what the killed run could not remove itself

    # What a kill in the middle of writing an adapter leaves behind: never registered, so never loaded.
    (pmem_home / "data" / "adapters" / "a-0000.gguf.tmp").write_bytes(b"GGUF" + b"\0" * 64)

    # Started in the background by a chat that then exits: the run finishes on its own. A chat turn is "being
    # answered" (the marker), so the run pauses at its first training step until the marker goes.
    monkeypatch.setenv("PMEM_DISTILL_EPOCHS", "2")
    monkeypatch.setenv("PMEM_DISTILL_AUTO", "true")
    monkeypatch.setenv("PMEM_DISTILL_MIN_NEW", "3")
    monkeypatch.setenv("PMEM_DISTILL_BUSY_LOAD", "-1")  # the suite may run beside other work: do not wait for a quiet machine
    marker = interactive_marker(paths)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    rt = _runtime(pmem_home, dense_cache)
    rt.distill_on_close = True
    rt.journal  # noqa: B018 - open the store, as a chat would have
    rt.close()
    reached("training")
    # `pmem distill` run meanwhile waits for that run (showing its progress on a terminal) and reports what it made.
    run_env = {**env, "PMEM_DISTILL_AUTO": "false", "COLUMNS": "200"}
    run_env.pop("PMEM_DISTILL_EPOCHS")
    waiting = subprocess.Popen([sys.executable, "-m", "pmem", "distill"], env=run_env, cwd=str(ROOT),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert waiting.stderr is not None
    line = waiting.stderr.readline()
    assert "already running" in line and "waiting for it" in line, line
    marker.unlink()  # the chat turn is over: the background run trains on
    out, err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, err
    conn = sqlite3.connect(pmem_home / "data" / "pmem.sqlite3")
    adapters = conn.execute("SELECT id, file, status FROM adapters").fetchall()
    conn.close()
    assert len(adapters) == 1 and adapters[0][2] == "active", adapters
    assert out.startswith(f"Trained adapter {adapters[0][0]}: ") and "(by the run that was in progress)" in out, out
    files = sorted(p.name for p in (pmem_home / "data" / "adapters").iterdir() if not p.name.startswith("."))
    assert files == [adapters[0][1], adapters[0][1] + ".sha256"]  # the killed run's temporary file was swept; the digest stays
    log = (pmem_home / "logs" / "distill.log").read_text()
    assert f"distill: adapter {adapters[0][0]}" in log
    assert "Ada" not in log and "Utrecht" not in log  # no personal data in the log


def test_background_runs_of_several_data_dirs_queue_for_one_user_lock(tmp_path: Path, dense_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three homes (as three imports would) each start a background run while another run of the same user
    holds the per-user lock: none trains, each says it is queued and why; a busy machine is a reason too."""
    from pmem.core.config import resolve_paths
    from pmem.core.distill.store import USER_LOCK_NAME, distill_lock, distill_running, queued

    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    homes = [tmp_path / f"home{i}" for i in range(3)]
    for home in homes:
        monkeypatch.setenv("PMEM_HOME", str(home))
        rt = _runtime(home, dense_cache)
        _teach(rt)
        rt.close()
    with distill_lock(runtime / "pmem", name=USER_LOCK_NAME) as got:
        assert got
        for home in homes:
            started = run_pmem("distill", "--background", home=home, env={"XDG_RUNTIME_DIR": str(runtime)})
            assert started.stdout.startswith("Distilling in the background"), started
        adapters = [resolve_paths({"PMEM_HOME": str(h)}).adapters_dir for h in homes]
        deadline = time.time() + 300
        while time.time() < deadline and not all(queued(a) for a in adapters):
            time.sleep(0.2)
        assert all(queued(a) for a in adapters), "each background run reports that it waits"
        assert not any(distill_running(a) for a in adapters), "no run trains while another of the same user runs"
        again = run_pmem("distill", "--background", home=homes[0], env={"XDG_RUNTIME_DIR": str(runtime)})
        assert again.stdout.strip() == "A distillation is already running.", "a queued run is not started twice"
        status = run_pmem("distill", "--status", home=homes[0], env={"XDG_RUNTIME_DIR": str(runtime)})
        assert "waiting because another pmem distillation of this user is running." in status.stdout, status.stdout
    # The lock is free now, but the machine is "busy" (any load is above this limit): they keep waiting, saying why.
    import json

    for a in adapters:
        state = json.loads((a / ".queued").read_text())
        os.kill(state["pid"], 9)
        (a / ".queued").unlink()
    busy = run_pmem("distill", "--background", home=homes[1], env={"XDG_RUNTIME_DIR": str(runtime), "PMEM_DISTILL_BUSY_LOAD": "0.0000001"})
    assert busy.returncode == 0, busy.stderr
    deadline = time.time() + 300
    while time.time() < deadline and not (queued(adapters[1]) or {}).get("reason", "").startswith("the machine is busy"):
        time.sleep(0.2)
    status = run_pmem("distill", "--status", home=homes[1], env={"XDG_RUNTIME_DIR": str(runtime)})
    assert "waiting because the machine is busy (load " in status.stdout, status.stdout
    os.kill(json.loads((adapters[1] / ".queued").read_text())["pid"], 9)


def test_distill_without_the_extra_says_what_to_install(pmem_home: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Absent:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('peft', 'gguf'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _Absent())\n"
    )
    run_pmem("profile", "set", "location.city", "Utrecht", home=pmem_home)
    proc = run_pmem("distill", home=pmem_home, env={"PYTHONPATH": str(blocker)})
    assert_one_line_error(proc, "pip install 'pmem[distill]'", "peft, gguf")
    assert proc.returncode == 3
    assert "Utrecht" in run_pmem("profile", "show", home=pmem_home).stdout
    status = run_pmem("distill", "--status", home=pmem_home, env={"PYTHONPATH": str(blocker)})
    assert status.returncode == 0 and "Training needs the distill extra: pip install 'pmem[distill]'" in status.stdout


def test_an_adapter_for_another_model_is_ignored_and_said_so(pmem_home: Path, embedded_model: Path) -> None:
    from pmem.core.distill.store import AdapterStore
    from pmem.core.runtime import Runtime

    rt = Runtime.load()
    store = AdapterStore(rt.journal.conn, rt.paths.adapters_dir)
    rt.paths.adapters_dir.mkdir(parents=True, exist_ok=True)
    adapter = AdapterStore.make(
        "a-elsewhere", base_model="0" * 20, base_name="Other-7B", examples=1, facts=1, episodes=0, epochs=1, rank=8,
        alpha=16, first_loss=None, final_loss=None, train_s=1.0, size=4,
    )
    (rt.paths.adapters_dir / adapter.file).write_bytes(b"GGUF")
    assert store.register(adapter, [], [])
    assert rt.engine.adapter_id == ""
    assert rt.adapter_note == "adapter a-elsewhere was trained on another model (Other-7B); not used with this one"
    rt.close()
    status = run_pmem("distill", "--status", home=pmem_home)
    assert "Not used: a-elsewhere was trained on another model (Other-7B)" in status.stdout
    assert "Live: none" in status.stdout


# ----------------------------------------------------------------------------- the preference stage (DPO)

TERSE = [
    ("How do I boil an egg?", "- Boil water.\n- Cook the egg 8 minutes.\n- Cool it in cold water.",
     "Well, boiling an egg is a wonderful little kitchen skill that everyone should know! First of all, you will want to find a nice pot, and then fill it with plenty of water, and then you can bring it to the boil, which takes a few minutes depending on your stove."),
    ("How do I water a cactus?", "- Water once every two weeks.\n- Let the soil dry out between waterings.",
     "Oh, cacti are such lovely plants to have around the house! They really do not need very much water at all, and honestly the most common mistake that people make with them is being far too generous, so you should be quite careful about how often you water it."),
    ("How do I clean a keyboard?", "- Unplug it.\n- Shake out crumbs.\n- Wipe the keys with a damp cloth.",
     "Cleaning a keyboard is a great idea, because keyboards can get surprisingly dirty over time! There are many different approaches you could take, and it really depends on what kind of keyboard you happen to have, but generally speaking you will want to start by unplugging it."),
    ("How do I make tea?", "- Boil water.\n- Steep the tea 3 minutes.\n- Remove the leaves.",
     "Making tea is one of life's simple pleasures, and there are so many wonderful varieties to choose from! To get started, you will want to boil some fresh water in a kettle, and while that is heating up you can choose which kind of tea you would like to enjoy today."),
    ("How do I tie a tie?", "- Drape it around your neck.\n- Cross the wide end over.\n- Pull it through the loop.",
     "Tying a tie can seem a little tricky at first, but don't worry, with a bit of practice you will get the hang of it in no time at all! There are actually quite a few different knots you could learn, from the simple four-in-hand to the more elaborate Windsor knot."),
    ("How do I store bread?", "- Keep it in a bread bin.\n- Freeze what you will not eat in 3 days.",
     "Storing bread properly is really important if you want it to stay fresh and tasty for as long as possible! Many people keep their bread in the fridge, but that can actually make it go stale faster, so it is usually a better idea to find a cool, dry place in your kitchen."),
    ("How do I sharpen a pencil?", "- Put it in the sharpener.\n- Turn it until the tip is pointed.",
     "Sharpening a pencil is something that most of us learned to do back in school, but there are a few little tricks that can make it go more smoothly! The first thing you will need, of course, is a good pencil sharpener, and there are manual ones and electric ones available."),
    ("How do I fold a shirt?", "- Lay it flat.\n- Fold the sleeves in.\n- Fold it in half twice.",
     "Folding a shirt neatly is such a satisfying thing to do, and it really helps to keep your wardrobe looking tidy and organised! There are a number of different methods that people use, and some of them are quite clever, but let me walk you through a simple approach that works well."),
]
HELD_OUT = [
    ("How do I wash a car?", "- Rinse it.\n- Wash it with soapy water.\n- Dry it with a towel.",
     "Washing your car is a really rewarding job, especially on a nice sunny afternoon! There are lots of different products you could use, and some people like to take their car to a car wash, but doing it yourself at home can be a lot of fun and it saves you a bit of money too."),
    ("How do I plant a tree?", "- Dig a hole twice as wide as the roots.\n- Set the tree in.\n- Fill and water.",
     "Planting a tree is a wonderful thing to do for the environment and for your garden! Before you begin, you will want to think carefully about where you would like the tree to grow, because trees can get quite large over the years and they need plenty of space and sunlight."),
    ("How do I iron trousers?", "- Turn them inside out.\n- Iron the legs flat.\n- Hang them up.",
     "Ironing trousers can feel like a bit of a chore, but it really does make them look so much smarter when you wear them out! First of all, you should always check the label to see what temperature setting is recommended for the fabric, because some materials can be damaged easily."),
    ("How do I descale a kettle?", "- Fill it with half vinegar, half water.\n- Boil it.\n- Rinse twice.",
     "Descaling a kettle is something that a lot of people forget to do, but it really makes a difference to how your tea and coffee taste! If you live in an area with hard water, you will probably notice a chalky white build-up inside your kettle after a few weeks of regular use."),
]


def test_the_preference_stage_learns_a_style_from_pairs_it_never_saw(dense_cache: Path, embedded_model: Path) -> None:
    """A real, small DPO run: terse bullet answers preferred to chatty ones on 8 prompts; on 4 other prompts the
    adapter prefers the terse answer per token, where the base model does not."""
    from pmem.core.distill.base import load_dense_base
    from pmem.core.distill.dataset import Example
    from pmem.core.distill.train import mean_loss, preference_accuracy, tokenize, tokenize_pairs, train_lora, train_preferences
    from pmem.core.engine.llama import LlamaCppEngine
    from pmem.core.models import model_fingerprint

    base, _ = load_dense_base(embedded_model, dense_cache, model_fingerprint(embedded_model))
    vocab = LlamaCppEngine(embedded_model, vocab_only=True)
    facts = tokenize([Example("What is my name?", "You are called Ada Quist.")] * 4, vocab, SYSTEM)
    pairs, held = tokenize_pairs(TERSE, vocab, SYSTEM), tokenize_pairs(HELD_OUT, vocab, SYSTEM)
    pad = max(0, vocab.llama.token_eos())
    vocab.close()
    assert len(pairs) == 8 and len(held) == 4
    model = train_lora(base, facts, rank=8, alpha=16, epochs=1, learning_rate=1e-3, threads=2).model
    with model.disable_adapter():
        before = preference_accuracy(model, held, pad)
    knew = mean_loss(model, facts, pad)
    result = train_preferences(model, pairs, beta=0.1, epochs=2, learning_rate=1e-3, threads=2, pad_id=pad, replay=facts, replay_weight=1.0)
    after = preference_accuracy(model, held, pad)
    print(f"held-out preference accuracy {before} -> {after}; loss {result.first_loss} -> {result.final_loss}; facts' loss {knew} -> {mean_loss(model, facts, pad)}")
    assert result.final_loss is not None and result.first_loss is not None and result.final_loss < result.first_loss
    assert after >= 0.75 and after > before, (before, after)
    assert mean_loss(model, facts, pad) <= knew, "the fact was replayed: the preference stage did not unlearn it"


def test_distill_adds_the_preference_stage_and_forgetting_a_pair_stales_the_adapter(pmem_home: Path, dense_cache: Path) -> None:
    from pmem.core.store.feedback import FeedbackStore

    rt = _runtime(pmem_home, dense_cache, epochs=1, min_pairs=8, preference_epochs=1)
    _teach(rt)
    session = rt.journal.new_session("feedback")
    store = FeedbackStore(rt.journal.conn)
    for prompt, terse, chatty in TERSE:
        rt.journal.add_turn(session.id, "user", prompt)
        reply = rt.journal.add_turn(session.id, "assistant", chatty)
        store.record(reply.id, "edit", terse)
    pairs = store.pairs()
    assert len(pairs) == 8 and {p.kind for p in pairs} == {"edit"}
    report = rt.distill.run()
    assert report.adapter is not None, report.skipped
    assert report.pairs == 8 and "then 8 preference pairs" in report.summary()
    # The facts are kept: the fact stage's examples are replayed while the style is learned.
    assert report.facts_loss is not None and report.facts_loss[1] <= report.facts_loss[0] + 0.05, report.facts_loss
    assert "facts' loss" in report.summary()
    live = report.adapter.id
    assert {r[0] for r in rt.journal.conn.execute("SELECT pair_id FROM adapter_pairs WHERE adapter_id = ?", (live,))} == {p.id for p in pairs}
    rt.close()

    listed = json.loads(run_pmem("feedback", "list", "--json", home=pmem_home).stdout)
    assert len(listed) == 8
    forgot = run_pmem("feedback", "forget", listed[0]["id"], home=pmem_home)
    assert forgot.returncode == 0, forgot.stderr
    conn = sqlite3.connect(pmem_home / "data" / "pmem.sqlite3")
    status = conn.execute("SELECT status, reason FROM adapters WHERE id = ?", (live,)).fetchone()
    conn.close()
    assert status == ("stale", "forgotten preference")
    assert not (pmem_home / "data" / "adapters" / f"{live}.gguf").exists()
    leaked = [p for p in (pmem_home / "data").rglob("*") if p.is_file() and listed[0]["chosen"].encode() in p.read_bytes()]
    assert leaked == []
