"""Distillation: the profile and memories, trained into a LoRA adapter for the current base model.

``DistillService.run`` does one whole run (dataset, dense base, training, GGUF export, registration);
``due`` says whether enough is new for an automatic run, and ``start_background`` starts one in its own
low-priority process, which outlives the chat that started it and never leaves half an adapter behind.
Nothing here imports torch, transformers or peft until a run starts; without the ``distill`` extra,
:func:`require_extra` names exactly what to install.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmem.core.config import Paths, Settings, resolved_threads
from pmem.core.distill.dataset import Dataset, build_dataset
from pmem.core.distill.store import Adapter, AdapterStore, distill_lock, record_digest
from pmem.core.errors import ConfigError, PmemError

EXTRA_MODULES = ("torch", "transformers", "peft", "gguf")
INSTALL_HINT = "pip install 'pmem[distill]'"
BUSY_FILE = "interactive.turn"
"""Present in the cache dir while a chat turn is being answered: a background run pauses between steps."""


class DependencyError(PmemError):
    exit_code = 3


def missing_extra() -> list[str]:
    """The extra's modules that are not installed (found without importing them: torch alone takes seconds)."""
    missing = []
    for name in EXTRA_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_extra() -> None:
    missing = missing_extra()
    if missing:
        raise DependencyError(
            f"pmem distill needs the optional 'distill' extra ({', '.join(missing)} not installed): run {INSTALL_HINT}"
        )


@dataclass
class Progress:
    """What a face shows while a run goes on: a stage, and steps within it."""

    stage: str = ""
    done: int = 0
    total: int = 0
    loss: float | None = None


@dataclass
class DistillReport:
    adapter: Adapter | None = None
    examples: int = 0
    facts: int = 0
    episodes: int = 0
    seconds: float = 0.0
    used_cached_base: bool = False
    skipped: str = ""
    """Why no adapter was made (nothing to learn, another run going on, a source forgotten meanwhile)."""
    removed: list[str] = field(default_factory=list)
    pairs: int = 0
    """Preference pairs the preference stage learned from (0: no preference stage)."""
    preference_loss: tuple[float, float] | None = None
    facts_loss: tuple[float, float] | None = None
    """The fact examples' loss before and after the preference stage: whether the facts were kept."""

    def summary(self) -> str:
        if self.adapter is None:
            return self.skipped
        a = self.adapter
        loss = f"; loss {a.first_loss:.2f} → {a.final_loss:.2f}" if a.first_loss is not None and a.final_loss is not None else ""
        prefs = ""
        if self.pairs:
            prefs = f"; then {_n(self.pairs, 'preference pair')}"
            if self.preference_loss is not None:
                prefs += f" (loss {self.preference_loss[0]:.2f} → {self.preference_loss[1]:.2f})"
            if self.facts_loss is not None:
                prefs += f", facts' loss {self.facts_loss[0]:.2f} → {self.facts_loss[1]:.2f}"
        return (
            f"adapter {a.id}: {_n(a.facts, 'fact')} and {_n(a.episodes, 'memory', 'memories')}, "
            f"{_n(a.examples, 'example')} × {_n(a.epochs, 'epoch')}{prefs} in {self.seconds:.0f} s{loss}; {a.bytes / 1e6:.1f} MB"
        )


class DistillService:
    def __init__(self, settings: Settings, paths: Paths, conn, model_path: Path) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.paths = paths
        self.conn = conn
        self.model_path = Path(model_path)
        self.store = AdapterStore(conn, paths.adapters_dir)
        self._fingerprint = ""

    @property
    def fingerprint(self) -> str:
        if not self._fingerprint:
            from pmem.core.models import model_fingerprint

            self._fingerprint = model_fingerprint(self.model_path)
        return self._fingerprint

    # ------------------------------------------------------------------ which adapter, and when to train

    def grounding(self) -> Any:
        """The grounding adapter the chat applies beneath this data dir's adapter, if any (engine/grounding.py)."""
        from pmem.core.engine.grounding import grounding_for

        return grounding_for(self.model_path) if self.settings.model.grounding_adapter else None

    def active(self) -> Adapter | None:
        return self.store.active(self.fingerprint)

    def foreign(self) -> list[Adapter]:
        """Live adapters trained on a different base model (ignored, and said so)."""
        return self.store.active_for_other_models(self.fingerprint)

    def changes(self) -> int:
        return self.store.changes_since(self.fingerprint)

    def due(self) -> bool:
        """Whether an automatic run should start now."""
        d = self.settings.distill
        if not (d.auto and d.use_adapter) or self.settings.model.backend != "llama_cpp" or missing_extra():
            return False
        return self.changes() >= max(1, d.min_new)

    def dataset(self) -> Dataset:
        from pmem.core.memory.episodes import EpisodeTable
        from pmem.core.profile.store import ProfileStore

        limit = max(0, self.settings.distill.max_examples)
        recent = [r[0] for r in self.conn.execute("SELECT id FROM episodes ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,))]
        episodes = EpisodeTable(self.conn).load(recent).values()
        return build_dataset(ProfileStore(self.conn).current(), episodes, max_examples=limit)

    # ------------------------------------------------------------------ a run

    def run(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        wait_while: Callable[[], bool] | None = None,
        epochs: int | None = None,
    ) -> DistillReport:
        """Train, export and register a new adapter from what pmem knows now."""
        require_extra()
        if self.settings.model.backend != "llama_cpp":
            raise PmemError("pmem distill trains an adapter for a local GGUF model; it does not apply to model.backend = \"openai\"")
        d = self.settings.distill
        if d.rank < 1 or d.alpha <= 0 or d.epochs < 1 or d.learning_rate <= 0:
            raise ConfigError("distill.rank, distill.alpha, distill.epochs and distill.learning_rate must be positive")
        from pmem.core.models import read_gguf_info

        info = read_gguf_info(self.model_path)
        from pmem.core.distill.export import SUPPORTED_ARCHITECTURES

        if info.architecture not in SUPPORTED_ARCHITECTURES:
            raise PmemError(
                f"pmem distill cannot train an adapter for a '{info.architecture}' model yet "
                f"(supported: {', '.join(sorted(SUPPORTED_ARCHITECTURES))})"
            )
        report = DistillReport()
        progress = Progress()

        published = [0.0]

        def publish(force: bool = False) -> None:
            # For a `pmem distill` that waits on this run from another process (at most twice a second).
            if force or time.monotonic() - published[0] >= 0.5:
                published[0] = time.monotonic()
                write_progress(self.paths.adapters_dir, progress)

        def stage(name: str, total: int = 0) -> None:
            progress.stage, progress.done, progress.total, progress.loss = name, 0, total, None
            publish(force=True)
            if on_progress is not None:
                on_progress(progress)

        started = time.perf_counter()
        with distill_lock(self.paths.adapters_dir) as got:
            if not got:
                report.skipped = "another distillation is already running; it will finish on its own"
                return report
            try:
                return self._run_locked(report, progress, stage, publish, on_progress, wait_while, epochs, info, started)
            finally:
                (self.paths.adapters_dir / PROGRESS_FILE).unlink(missing_ok=True)

    def _run_locked(
        self,
        report: DistillReport,
        progress: Progress,
        stage: Callable[..., None],
        publish: Callable[..., None],
        on_progress: Callable[[Progress], None] | None,
        wait_while: Callable[[], bool] | None,
        epochs: int | None,
        info: Any,
        started: float,
    ) -> DistillReport:
        """The body of a run, holding the data dir's lock."""
        d = self.settings.distill
        self.store.sweep(holding_lock=True)
        stage("collecting what pmem knows")
        data = self.dataset()
        report.examples, report.facts, report.episodes = len(data.examples), data.facts, data.episodes
        if not data.examples:
            report.skipped = "nothing to learn yet: no profile facts or memories"
            return report
        stage("tokenizing examples")
        from pmem.core.store.feedback import FeedbackStore

        pairs = FeedbackStore(self.conn).pairs()
        pairs = pairs if len(pairs) >= max(1, d.min_pairs) else []
        tokenized, preference_data, pad = self._tokenized(data.examples, pairs)
        stage("loading base weights")
        from pmem.core.distill.base import load_dense_base

        base, report.used_cached_base = load_dense_base(self.model_path, self.paths.distill_cache_dir, self.fingerprint)
        if (grounding := self.grounding()) is not None:
            from pmem.core.distill.export import merge_adapter

            merge_adapter(base, grounding.path, scale=grounding.scale)  # trained on the model the chat runs
        n_epochs = epochs or d.epochs
        stage("training", 1)

        def on_step(step: int, total: int, loss: float) -> None:
            progress.done, progress.total, progress.loss = step, total, loss
            publish()
            if on_progress is not None:
                on_progress(progress)

        result, state = self._train(base, tokenized, preference_data, pad, n_epochs, report, stage, on_step, wait_while)
        stage("writing adapter")
        adapter_id, path, size = self._write(state, base.config, info)
        report.seconds = time.perf_counter() - started
        adapter = AdapterStore.make(
            adapter_id, base_model=self.fingerprint, base_name=info.name or self.model_path.name,
            examples=len(tokenized), facts=data.facts, episodes=data.episodes, epochs=n_epochs, rank=d.rank,
            alpha=d.alpha, first_loss=result.first_loss, final_loss=result.final_loss, train_s=result.seconds, size=size,
        )
        if not self.store.register(adapter, data.fact_ids, data.turn_ids, [p.id for p in pairs] if report.pairs else ()):
            path.unlink(missing_ok=True)
            report.skipped = "discarded: something it learned was forgotten while it trained; run pmem distill again"
            return report
        report.adapter = adapter
        report.removed = self.store.sweep(holding_lock=True)
        return report

    def _tokenized(self, examples: Any, pairs: list[Any]) -> tuple[Any, Any, int]:
        """The examples and the preference pairs as token ids in the chat's own template, and the padding id."""
        from pmem.core.distill.train import tokenize, tokenize_pairs
        from pmem.core.engine.llama import LlamaCppEngine

        vocab = LlamaCppEngine(self.model_path, chat_format=self.settings.model.chat_format, vocab_only=True)
        try:
            tokenized = tokenize(examples, vocab, self.settings.chat.system_prompt)
            preference_data = tokenize_pairs([(p.prompt, p.chosen, p.rejected) for p in pairs], vocab, self.settings.chat.system_prompt)
            return tokenized, preference_data, max(0, vocab.llama.token_eos())
        finally:
            vocab.close()

    def _train(
        self, base: Any, tokenized: Any, preference_data: Any, pad: int, n_epochs: int, report: DistillReport,
        stage: Callable[..., None], on_step: Callable[[int, int, float], None], wait_while: Callable[[], bool] | None,
    ) -> tuple[Any, Any]:
        """The fact stage, then the preference stage when there are pairs; (the fact stage's result, the LoRA state)."""
        from pmem.core.distill.train import lora_state, mean_loss, train_lora, train_preferences

        d = self.settings.distill
        threads = d.threads or resolved_threads(self.settings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation chatter from transformers/peft is not the user's business
            result = train_lora(
                base, tokenized, rank=d.rank, alpha=d.alpha, epochs=n_epochs, learning_rate=d.learning_rate,
                threads=threads, pad_id=pad, on_step=on_step, wait_while=wait_while, checkpointing=d.low_memory,
            )
            if preference_data:
                facts_before = mean_loss(result.model, tokenized, pad)
                stage("learning how you like answers", 1)
                preferred = train_preferences(
                    result.model, preference_data, beta=d.beta, epochs=d.preference_epochs,
                    learning_rate=d.preference_learning_rate, nll_weight=d.preference_nll,
                    replay=tokenized, replay_weight=d.preference_replay, threads=threads, pad_id=pad, on_step=on_step, wait_while=wait_while,
                )
                report.pairs = len(preference_data)
                report.facts_loss = (facts_before, mean_loss(result.model, tokenized, pad))
                if preferred.first_loss is not None and preferred.final_loss is not None:
                    report.preference_loss = (preferred.first_loss, preferred.final_loss)
            return result, lora_state(result.model)

    def _write(self, state: Any, config: Any, info: Any) -> tuple[str, Path, int]:
        """The trained LoRA as a GGUF adapter beside its digest; (its id, its path, its size in bytes)."""
        from pmem.core.distill.export import gguf_tensors, write_adapter

        tensors = gguf_tensors(
            state, architecture=info.architecture,
            n_head=int(config.num_attention_heads), n_head_kv=int(getattr(config, "num_key_value_heads", None) or config.num_attention_heads),
        )
        adapter_id = self.store.new_id()
        path = self.paths.adapters_dir / f"{adapter_id}.gguf"
        size = write_adapter(
            path, tensors, architecture=info.architecture, alpha=self.settings.distill.alpha,
            metadata={"adapter_id": adapter_id, "base_model": self.fingerprint, "base_name": info.name or self.model_path.name},
        )
        record_digest(path)
        return adapter_id, path, size

    def wait_for_running(
        self, on_progress: Callable[[Progress], None] | None = None, poll_s: float = 0.5
    ) -> Adapter | None:
        """Wait for a run of this data dir that another process has under way, showing its progress; returns
        the adapter it made (None when it made none). Interrupting the wait leaves that run alone."""
        from pmem.core.distill.store import distill_running

        since = self.store.latest(self.fingerprint)
        while distill_running(self.paths.adapters_dir):
            state = read_progress(self.paths.adapters_dir)
            if state is not None and on_progress is not None:
                on_progress(state)
            time.sleep(poll_s)
        made = self.store.latest(self.fingerprint)
        return made if made is not None and (since is None or made.id != since.id) and made.status == "active" else None

    def describe(self, adapter: Adapter) -> str:
        """One line about an adapter another run made."""
        return DistillReport(adapter=adapter, seconds=adapter.train_s or 0.0).summary()

    def running(self) -> bool:
        """Whether a run for this data dir is training now (in any process)."""
        from pmem.core.distill.store import distill_running

        return distill_running(self.paths.adapters_dir)

    def queued(self) -> dict[str, str] | None:
        """A background run waiting to start: since when and why (another run, a busy machine)."""
        from pmem.core.distill.store import queued

        return queued(self.paths.adapters_dir)

    missing_extra = staticmethod(missing_extra)
    require_extra = staticmethod(require_extra)
    install_hint = INSTALL_HINT

    # ------------------------------------------------------------------ in the background

    def run_queued(self, epochs: int | None = None) -> DistillReport:
        """What ``start_background``'s child does: wait its turn (one run per user account, a machine not busy),
        then train unless another run made an adapter meanwhile, pausing while a chat turn is answered."""
        before = self.store.latest(self.fingerprint)
        with turn_of_background_run(self.settings, self.paths):
            latest = self.store.latest(self.fingerprint)
            if latest is not None and (before is None or latest.id != before.id):
                return DistillReport(skipped=f"not needed: adapter {latest.id} was trained while this run waited")
            return self.run(wait_while=lambda: user_waiting(self.paths), epochs=epochs)

    def start_background(self) -> bool:
        """Start a low-priority ``pmem distill`` process that outlives this one; False if one is running."""
        if missing_extra():
            return False
        from pmem.core.distill.store import distill_running, queued

        if distill_running(self.paths.adapters_dir) or queued(self.paths.adapters_dir) is not None:
            return False
        self.paths.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log = open(self.paths.log_dir / "distill.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            subprocess.Popen(
                [sys.executable, "-m", "pmem", "distill", "--background-run"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
            )
        finally:
            log.close()
        return True


PROGRESS_FILE = ".progress"


def write_progress(directory: Path, progress: Progress) -> None:
    import json

    try:
        tmp = directory / (PROGRESS_FILE + ".tmp")
        tmp.write_text(json.dumps(progress.__dict__))
        os.replace(tmp, directory / PROGRESS_FILE)
    except OSError:
        pass  # progress for another process is a courtesy, never a reason to fail a run


def read_progress(directory: Path) -> Progress | None:
    import json

    try:
        return Progress(**json.loads((directory / PROGRESS_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def machine_busy(settings: Settings) -> str | None:
    """Why a background run should not start now (the load average is above ``distill.busy_load``), or None."""
    limit = settings.distill.busy_load
    if limit < 0:
        return None
    limit = limit or float(os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except OSError:
        return None
    return f"the machine is busy (load {load:.1f}, waits below {limit:g})" if load > limit else None


@contextmanager
def turn_of_background_run(settings: Settings, paths: Paths, poll_s: float = 5.0) -> Iterator[None]:
    """Wait until this background run may train: no other pmem distillation of this user account runs (in any
    data dir) and the machine is not busy. While it waits, ``pmem distill --status`` says so and why."""
    from pmem.core.distill.store import USER_LOCK_NAME, clear_queued, distill_lock, mark_queued

    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    last = ""
    try:
        while True:
            with distill_lock(paths.runtime_dir, name=USER_LOCK_NAME) as got:
                if got:
                    busy = machine_busy(settings)
                    if busy is None:
                        clear_queued(paths.adapters_dir)
                        yield
                        return
                    reason = busy
                else:
                    reason = "another pmem distillation of this user is running"
            if reason != last:
                mark_queued(paths.adapters_dir, reason, since)
                last = reason
            time.sleep(poll_s)
    finally:
        clear_queued(paths.adapters_dir)


def interactive_marker(paths: Paths) -> Path:
    return paths.cache_dir / BUSY_FILE


def user_waiting(paths: Paths, max_age_s: float = 300.0) -> bool:
    """Whether a chat turn is being answered right now (a marker younger than ``max_age_s``: a crashed chat
    cannot pause training for ever)."""
    try:
        return time.time() - interactive_marker(paths).stat().st_mtime < max_age_s
    except OSError:
        return False


def _n(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"
