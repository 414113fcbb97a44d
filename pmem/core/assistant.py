"""The floor of actions under every face: what a user can do with pmem, said once.

The CLI, the TUI (and the coming server and MCP faces) call these methods, the runtime, the config and the
errors, and nothing else of the core (an import-linter contract says so). Each action is the whole action: a
forget purges (so do an undo and a rebuild that changed the profile), a chat is opened with the right layers for
a private or a remembered session. A face decides how to ask and how to show; never what to do.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pmem.core.errors import InputError, PmemError
from pmem.core.runtime import Runtime

if TYPE_CHECKING:
    from pmem.core.chat import ChatService
    from pmem.core.discovery import FoundModel
    from pmem.core.forget import ForgetReport
    from pmem.core.memory.episodes import Episode
    from pmem.core.memory.retrieval import Hit
    from pmem.core.profile.model import Change, Fact
    from pmem.core.profile.store import ProfileStore
    from pmem.core.store.backup import Backup
    from pmem.core.store.feedback import Pair
    from pmem.core.store.journal import Session, Turn
    from pmem.core.transfer import ImportSummary

Progress = Callable[[int, int], None]
FactView = Literal["current", "history", "recent"]


@dataclass(frozen=True)
class ModelChange:
    """What ``use_model`` changed, for the face to say."""

    name: str
    path: Path
    previous: Path | None
    """The chat model until now (None: the configured one could not be found or read)."""
    architecture: str
    parameters: int | None
    quantization: str
    old_adapter: str | None
    """The adapter applied until now, trained on the previous model: not applied to the new one."""
    new_adapter: str | None
    """An adapter trained earlier for the new model, applied from now on."""

    def lines(self) -> list[str]:
        size = f"{self.parameters / 1e9:.2f}B parameters" if self.parameters else "size unknown"
        quant = f", {self.quantization}" if self.quantization else ""
        out = [f"chat model: {self.name} ({self.path}; {self.architecture}, {size}{quant})"]
        if self.path == self.previous:
            out.append("it was already the chat model; nothing else changes")
            return out
        out.append(f"was: {self.previous}" if self.previous is not None else "was: a model that could not be found or read")
        if self.old_adapter:
            out.append(f"adapter {self.old_adapter} was trained on the previous model and is not applied to this one")
        if self.new_adapter:
            out.append(f"adapter {self.new_adapter}, trained earlier for this model, is applied")
        elif self.old_adapter:
            out.append("run 'pmem distill' to train an adapter for this model")
        return out


@dataclass(frozen=True)
class ImportResult:
    summary: ImportSummary
    facts_restored: int
    facts_learned: int

    def line(self) -> str:
        return (
            self.summary.line()
            + (f"; {self.facts_restored} profile fact(s) restored" if self.facts_restored else "")
            + (f"; learned {self.facts_learned} profile fact(s)" if self.facts_learned else "")
        )


class Assistant:
    """The user's actions over one runtime. Cheap to make; opens nothing until an action needs it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._reader: Any = None

    # ------------------------------------------------------------------ chatting

    def open_chat(
        self, *, on_learned: Callable[[list[Change]], None] | None = None, interactive: bool = False
    ) -> ChatService:
        """A chat service over the runtime's engine: with every memory layer, or, in a private session, with none
        and nothing written. ``on_learned`` hears of facts learned in the background (the TUI's notice);
        ``interactive``: a message sent before the embedder has loaded is answered with lexical recall alone
        rather than waiting for it."""
        from pmem.core.chat import ChatService

        rt = self.runtime
        if rt.private:
            return ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=None, recall=None)
        if not interactive:
            # A message is coming at once: the model loads (llama.cpp, outside the GIL) while the memory layers are
            # imported and opened here; the reply's own load() waits for it, and raises what it raised.
            engine = rt.engine
            rt.in_background("pmem-load-model", _quietly(engine.load))
        layers = rt.layers
        layers.episodic.never_wait_for_embedder = interactive
        if on_learned is not None:
            layers.profile.on_change = on_learned
        if not interactive:
            # A message is coming at once (``pmem ask``, the plain chat): load the embedder and open the vector
            # store while the model loads, rather than after it (the full-screen app warms them after its first
            # paint instead).
            memory = rt.memory
            memory.embedder.load_in_background()
            rt.in_background("pmem-open-memory", _quietly(lambda: memory.vectors.collection))
        return ChatService(settings=rt.settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=layers)

    def warm_memory(self) -> None:
        """Load the embedder and catch up on indexing (after the model is usable, never before)."""
        memory = self.runtime.memory
        memory.embedder.load()
        memory.reconcile()
        memory.indexer.wake()

    def memory_notice(self, *, rebuild: bool = True) -> str:
        """What the memory layer has to tell the user, once: a damaged index found during the reply (the vector
        store is started afresh and rebuilt from the journal now; the full-text index was rebuilt already)."""
        notes = self.repairs()
        layers = self.runtime.layers_open
        if layers is not None:
            memory = layers.episodic
            if memory.vectors.rebuilt and rebuild:  # else the background indexer does it
                memory.index_pending()
            if memory.notice:
                notes.append(memory.notice)
            memory.notice = ""
        return "; ".join(notes)

    @staticmethod
    def repairs() -> list[str]:
        """Derived indexes this process found damaged and rebuilt (each said once)."""
        from pmem.core.store import fts

        return fts.take_notices()

    def last_recalled(self) -> list[Hit]:
        """The memories the last reply was given (for a panel)."""
        layers = self.runtime.layers_open
        return list(layers.episodic.last_hits) if layers is not None else []

    def background_work(self) -> list[str]:
        """What the memory layers are doing in the background, in words (reads counters only; no I/O)."""
        layers = self.runtime.layers_open
        if layers is None:
            return []
        work = ["indexing memories"] if layers.episodic.indexing else []
        if layers.profile.pending:
            work.append(f"learning from {layers.profile.pending} message(s)")
        return work

    def remember(self, text: str) -> str:
        """``/remember TEXT``: stored in the profile now, at full confidence."""
        changes = self.runtime.profile.remember(text)
        return "remembered: " + "; ".join(c.fact.statement for c in changes) if changes else "nothing to remember in that"

    def forget_said(self, text: str) -> str:
        """``/forget TEXT``: the profile facts the words name (or that the sentence would state) go."""
        facts = self.runtime.profile.matching(text)
        if not facts:
            return "nothing in the profile matched that"
        return "forgot: " + "; ".join(self.runtime.forget.facts(facts).fact_statements)

    def profile_text(self) -> str:
        """The profile as the user reads it (third person: "Lives in Utrecht"), empty when nothing is known."""
        from pmem.core.profile.service import render_block
        from pmem.core.profile.store import ProfileStore

        return render_block(ProfileStore(self._journal().conn).current(), person="third")

    # ------------------------------------------------------------------ the profile

    def _profile_store(self) -> ProfileStore:
        from pmem.core.profile.store import ProfileStore

        return ProfileStore(self.runtime.journal.conn)

    def facts(self, view: FactView = "current") -> list[Fact]:
        store = self._profile_store()
        return store.recent() if view == "recent" else store.history() if view == "history" else store.current()

    def find_facts(self, what: str) -> list[Fact]:
        """Current facts whose key, category or words match."""
        return self._profile_store().find(what)

    def set_fact(self, key: str, value: str) -> Change:
        """The user states a fact (a newer value replaces a single-valued one; the old one stays in history)."""
        from pmem.core.profile.model import CATEGORIES

        category, dot, attribute = key.partition(".")
        if not dot or not attribute or category not in CATEGORIES:
            raise InputError(f"key must be category.attribute with a category among: {', '.join(CATEGORIES)} (got {key!r})")
        if not value.strip():
            raise InputError("the value is empty")
        return self._profile_store().set(key, value)

    def forget_facts(self, facts: list[Fact], *, with_sources: bool = False) -> ForgetReport:
        """Facts and their history; with ``with_sources`` also the exchanges they came from."""
        return self.runtime.forget.facts(facts, with_sources=with_sources)

    def forget_fact_ids(self, ids: list[str]) -> ForgetReport:
        store = self._profile_store()
        return self.runtime.forget.facts([f for f in (store.get(i) for i in ids) if f is not None])

    def forget_profile(self, *, with_sources: bool = False) -> ForgetReport:
        return self.runtime.forget.whole_profile(with_sources=with_sources)

    def undo_learned(self, fact_ids: list[str]) -> tuple[list[Fact], list[Fact]]:
        """Take back facts just learned; returns (the facts undone, the facts that are current again)."""
        store = self._profile_store()
        undone = [f for f in (store.get(i) for i in fact_ids) if f is not None]
        restored = [f for f in (self.runtime.profile.undo(f.id) for f in undone) if f is not None]
        self.runtime.forget.purge()
        return undone, restored

    def rebuild_profile(
        self, *, dry_run: bool = False, progress: Progress | None = None, use_model: bool | None = None
    ) -> tuple[list[Fact], list[Fact]]:
        """Re-derive every extracted fact from the journal (with the extraction model too: ``use_model``, default
        as configured); returns (before, after)."""
        if not dry_run:
            self.runtime.backup_if_data("before-rebuild")
        before, after = self.runtime.profile.rebuild(dry_run=dry_run, progress=progress, use_model=use_model)
        if not dry_run and {(f.key, f.value) for f in before} != {(f.key, f.value) for f in after}:
            self.runtime.forget.purge()
        return before, after

    @contextmanager
    def profile_draft(self) -> Iterator[Path]:
        """The profile as an editable file in the private cache dir (never the shared temp dir), deleted after."""
        from pmem.core.profile import document

        directory = self.runtime.paths.cache_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix="profile-", suffix=".toml", dir=str(directory))
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(document.render(self._profile_store().current()))
            yield path
        finally:
            path.unlink(missing_ok=True)

    def apply_profile_draft(self, path: Path) -> str:
        """Validate the edited file and apply it as a diff (never half-applied); raises ``InputError``."""
        from pmem.core.profile import document

        return document.apply(self._profile_store(), path.read_text(encoding="utf-8")).line()

    @staticmethod
    def editor_command(path: Path) -> list[str]:
        """$VISUAL, else $EDITOR, else vi, on ``path`` (the variable may carry arguments: "code --wait")."""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        return [*shlex.split(editor), str(path)]

    # ------------------------------------------------------------------ memories and conversations

    def memories(self, limit: int = 20, session: str | None = None) -> list[Episode]:
        """Remembered exchanges, newest first."""
        memory = self.runtime.memory
        memory.reconcile_episodes()
        return memory.episodes.newest(limit, session)

    def memory(self, memory_id: str) -> Episode | None:
        return self.runtime.memory.get(memory_id)

    def search(self, text: str, k: int = 8, *, notice: Callable[[str], None] | None = None) -> list[Hit]:
        """Search as the chat recalls (dense + lexical + recency), after catching up on indexing."""
        if not text.strip():
            raise InputError("empty search query")
        memory = self.runtime.memory
        memory.embedder.load_in_background()
        memory.reconcile()
        for line in [*self.repairs(), memory.notice]:
            if line and notice is not None:
                notice(line)
        memory.index_pending()
        hits = memory.search(text, k)
        for line in self.repairs():  # found by the search itself (the full-text index's segments)
            if notice is not None:
                notice(line)
        if memory.vectors.rebuilt:  # found damaged by the search itself: rebuilt from the journal, then asked again
            memory.notice = ""
            memory.index_pending()
            if memory.notice and notice is not None:
                notice(memory.notice)
            hits = memory.search(text, k)
        return hits

    @staticmethod
    def hit_dicts(hits: list[Hit]) -> list[dict[str, Any]]:
        from pmem.core.memory.retrieval import hit_dicts

        return hit_dicts(hits)

    def stats(self) -> dict[str, Any]:
        return self.runtime.memory.stats()

    # ---------------------------------------------------------------- backups of the journal

    def backups(self) -> list[tuple[Backup, str]]:
        """The journal's backups, newest first, each with its integrity check (``"ok"`` or why not)."""
        from pmem.core.store import backup

        return [(b, backup.check(b.path)) for b in backup.list_backups(self.runtime.paths.backups_dir)]

    def make_backup(self, target: Path | None = None) -> Backup:
        """A backup now: into the rotation, or to ``target`` (a folder or a ``.sqlite3`` file, kept as it is)."""
        made = self.runtime.backup_now("manual", target.expanduser() if target else None)
        if made is None:
            raise InputError("backups are off (backup.enabled = false): name a folder with --to")
        return made

    def restore_backup(self, which: str, progress: Progress | None = None) -> tuple[Path, Path | None, int]:
        """Put a backup (a name from ``backups()`` or a path) in place of the journal after checking it, keeping the
        current one aside; then rebuild the vector index from it. Returns (restored from, kept aside at, memories)."""
        from pmem.core.store import backup

        paths = self.runtime.paths
        source = Path(which).expanduser()
        if not source.is_file():
            source = paths.backups_dir / which
        if not source.is_file():
            raise InputError(f"no backup named {which!r}: `pmem restore` lists them")
        if self.runtime._journal is not None:  # noqa: SLF001 - a restore must come before anything opens the journal
            raise PmemError("the journal is open in this process: restore before opening it")
        aside = backup.restore(paths.database, source)
        for state in paths.kv_dir.glob("*.kv") if paths.kv_dir.exists() else []:
            state.unlink(missing_ok=True)  # saved prompt states of the replaced profile
        return source, aside, self.reindex(progress)

    def reindex(self, progress: Progress | None = None) -> int:
        return self.runtime.memory.reindex(progress=progress)

    def session(self, session_id: str) -> Session | None:
        return self._journal().session(session_id)

    def turn(self, uid: str) -> Turn | None:
        return self._journal().turn(uid)

    def turns(self, session_id: str) -> list[Turn]:
        return self._journal().turns(session_id)

    def conversations(self) -> list[tuple[Session, int, str]]:
        """Conversations newest first, each with its turn count and first message (for a picker)."""
        return self._journal().session_summaries()

    def rename(self, session_id: str, title: str) -> None:
        self.runtime.journal.rename_session(session_id, title)

    def count_matching(self, text: str) -> int:
        return len(self.runtime.journal.turn_ids_containing(text))

    def forget_memory(self, memory_id: str) -> ForgetReport:
        if self.memory(memory_id) is None:
            raise InputError(f"no memory with id {memory_id}")
        return self.runtime.forget.episode(memory_id)

    def forget_turn(self, uid: str) -> ForgetReport:
        turn = self.turn(uid)
        if turn is None:
            raise InputError(f"no turn with id {uid}")
        return self.runtime.forget.turns([turn.id])

    def forget_session(self, session_id: str) -> ForgetReport:
        if self.session(session_id) is None:
            raise InputError(f"no session with id {session_id}")
        return self.runtime.forget.session(session_id)

    def forget_matching(self, text: str) -> ForgetReport:
        if not text.strip():
            raise InputError("--match needs some text")
        return self.runtime.forget.matching(text)

    def live_memory_ids(self) -> set[str]:
        return self.runtime.memory.episodes.all_ids()

    # ------------------------------------------------------------------ what a panel shows (a separate reader)

    def _journal(self) -> Any:
        """Reads go through a connection of their own once a chat is open, so that a panel refresh never waits
        behind (or interleaves with) the chat's writes; before that, the runtime's."""
        from pmem.core.store.journal import Journal

        return Journal(self._reader) if self._reader is not None else self.runtime.journal

    def open_reader(self) -> None:
        from pmem.core.store.db import connect

        if self._reader is None:
            self._reader = connect(self.runtime.paths.database)

    def panel(self) -> tuple[list[Fact], int]:
        """The current facts and how many memories there are."""
        from pmem.core.memory.episodes import EpisodeTable
        from pmem.core.profile.store import ProfileStore

        conn = self._journal().conn
        return ProfileStore(conn).current(), EpisodeTable(conn).count()

    # ------------------------------------------------------------------ feedback on replies

    def feedback(self, chat: ChatService, kind: Literal["up", "down", "edit"], text: str = "") -> str:
        """Thumbs up or down, or an edit ("this is the reply I wanted"), on the chat's last reply."""
        chat.give_feedback(kind, text)
        return {"up": "noted: a good reply", "down": "noted: not a good reply", "edit": "noted: your version of the reply"}[kind]

    @contextmanager
    def reply_draft(self, chat: ChatService) -> Iterator[Path]:
        """The last reply as an editable Markdown file in the private cache dir, deleted after."""
        reply = chat.last.assistant_turn
        if reply is None:
            raise InputError("there is no reply to edit in this conversation yet")
        directory = self.runtime.paths.cache_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(prefix="reply-", suffix=".md", dir=str(directory))
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(reply.content + "\n")
            yield path
        finally:
            path.unlink(missing_ok=True)

    def apply_reply_draft(self, chat: ChatService, path: Path) -> str:
        """The edited reply becomes an edit of the last reply, unless it was left as it was."""
        text = path.read_text(encoding="utf-8").strip()
        reply = chat.last.assistant_turn
        if reply is None or text == reply.content.strip():
            return "the reply is unchanged"
        return self.feedback(chat, "edit", text)

    def regenerate(self, chat: ChatService, *, cancel: threading.Event | None = None) -> Iterator[str]:
        """The last reply again, sampled afresh; the old one stays in the journal as regenerated."""
        return chat.regenerate(cancel=cancel)

    def preference_pairs(self) -> list[Pair]:
        from pmem.core.store.feedback import FeedbackStore

        return FeedbackStore(self.runtime.journal.conn).pairs()

    def forget_pair(self, pair_id: str) -> None:
        from pmem.core.store.feedback import FeedbackStore

        if not FeedbackStore(self.runtime.journal.conn).forget_pair(pair_id):
            raise InputError(f"no preference pair with id {pair_id}")
        self.runtime.forget.purge()

    def forget_all_pairs(self) -> int:
        from pmem.core.store.feedback import FeedbackStore

        count = FeedbackStore(self.runtime.journal.conn).forget_all()
        self.runtime.forget.purge()
        return count

    # ------------------------------------------------------------------ other tools (the API and MCP faces)

    def answer(
        self,
        messages: list[dict[str, str]],
        *,
        memory: bool = True,
        source: str = "api",
        cancel: threading.Event | None = None,
        **params: float | int | tuple[str, ...] | None,
    ) -> tuple[Iterator[str], ChatService]:
        """Answer the last user message of an OpenAI-style conversation as the chat would: with the profile and
        recalled memories, the exchange journaled as a conversation of its own (``source``), remembered and
        forgettable like any other. Earlier messages of the request are context only (the client keeps its own
        conversation and sends it whole each time); system messages replace pmem's system prompt for the call.
        ``memory=False``: nothing is read from memory or written. The caller runs one answer at a time (one
        model context serves them all); ``service.last`` holds the reply's statistics when the pieces end."""
        from pmem.core.chat import ChatService
        from pmem.core.config import with_overrides

        if not messages or messages[-1].get("role") != "user" or not str(messages[-1].get("content", "")).strip():
            raise InputError("the last message must be a non-empty user message")
        system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system" and m.get("content"))
        rt = self.runtime
        settings = with_overrides(rt.settings, chat__system_prompt=system) if system else rt.settings
        history = [{"role": m["role"], "content": m["content"]} for m in messages[:-1] if m.get("role") in ("user", "assistant")]
        if memory and not rt.private:
            service = ChatService(settings=settings, paths=rt.paths, engine=rt.engine, journal=rt.journal, recall=rt.layers)
            service.session = rt.journal.new_session(messages[-1]["content"][:60], source=source)
        else:
            service = ChatService(settings=settings, paths=rt.paths, engine=rt.engine, journal=None, recall=None)
        service.history = history  # type: ignore[assignment]
        return service.send(messages[-1]["content"], cancel=cancel, **params), service

    def api_token(self) -> str:
        from pmem.core.access import api_token

        return api_token(self.runtime.paths)

    def token_matches(self, given: str) -> bool:
        from pmem.core.access import token_matches

        return token_matches(self.api_token(), given)

    def note(self, text: str, *, session_title: str = "notes from other tools", source: str = "mcp") -> str:
        """Something another tool asks pmem to remember: journaled (in one conversation per ``source`` and day),
        kept as a memory, and taught to the profile with the turn as its source, so it is searchable at once and
        forgettable like anything said in a chat."""
        text = text.strip()
        if not text:
            raise InputError("nothing to remember: the text is empty")
        rt = self.runtime
        journal = rt.journal
        title = f"{session_title} {_today()}"
        session = next((s for s in journal.sessions() if s.source == source and s.title == title), None)
        if session is None:
            session = journal.new_session(title, source=source)
        turn = journal.add_turn(session.id, "user", text)
        changes = rt.profile.remember(text, [turn.id])
        rt.memory.remember_exchange(turn, None)
        rt.memory.index_pending()
        learned = "; learned: " + "; ".join(c.fact.statement for c in changes) if changes else ""
        return f"remembered as turn {turn.uid}{learned}"

    def forget_what(self, query_or_id: str, *, confirm: bool = False) -> str:
        """Forget a memory or turn by id at once; by text only with ``confirm`` (first it says what would go),
        so a tool can never erase in bulk without a second, explicit call."""
        target = query_or_id.strip()
        if not target:
            raise InputError("say what to forget: a memory id, a turn id or some text")
        if self.memory(target) is not None:
            return self.forget_memory(target).summary()
        if self.turn(target) is not None:
            return self.forget_turn(target).summary()
        count = self.count_matching(target)
        facts = self.runtime.profile.matching(target)
        if not count and not facts:
            return f"nothing matches {target!r}; nothing was forgotten"
        if not confirm:
            return (
                f"{count} turn(s) and {len(facts)} profile fact(s) match {target!r}. Nothing was forgotten yet: "
                "call forget again with confirm=true to forget them from every store."
            )
        report = self.forget_matching(target) if count else None
        fact_report = self.runtime.forget.facts(self.runtime.profile.matching(target)) if facts else None
        return "; ".join(r.summary() for r in (report, fact_report) if r is not None)

    # ------------------------------------------------------------------ models

    def models(self) -> list[FoundModel]:
        """The GGUF models on this computer (the embedded one, the configured one, Ollama's, LM Studio's, …)."""
        from pmem.core.discovery import discover

        model = self.runtime.settings.model
        return discover(model.search_paths, configured=model.path)

    def current_model(self) -> Path:
        from pmem.core.discovery import resolve_model

        return resolve_model(self.runtime.chosen_model, self.runtime.settings.model.search_paths)

    def use_model(self, name: str) -> ModelChange:
        """Make ``name`` (a short name or a path) the configured chat model: ``model.path`` in the config file."""
        from pmem.core.config import save_setting
        from pmem.core.discovery import EMBEDDED_NAME, resolve_model
        from pmem.core.models import embedded_chat_model, read_gguf_info

        rt = self.runtime
        search = rt.settings.model.search_paths
        new = resolve_model(name, search)
        info = read_gguf_info(new, count_parameters=True)
        try:
            old: Path | None = resolve_model(rt.settings.model.path, search)
        except PmemError:
            old = None  # the configured model is gone or broken: choosing another is how the user mends it
        stale = self._live_adapter() if old is not None and new != old else None
        save_setting(rt.paths, "model.path", "" if name == EMBEDDED_NAME or new == embedded_chat_model() else str(new))
        rt.settings.model.path = str(new)
        rt.model_override = None
        rt.reset_model()
        return ModelChange(name, new, old, info.architecture, info.parameters, info.quantization, stale, self._live_adapter())

    def switch_model(self, chat: ChatService | None, name: str) -> str:
        """Chat with another model from the next reply on, keeping the conversation (the new model reads it
        whole on its first reply). Only this session: ``use_model`` changes the configured one."""
        if chat is not None:
            engine = chat.change_engine(lambda: self.runtime.switch_model(name))
        else:
            engine = self.runtime.switch_model(name)
        notes = [n for n in (self.runtime.adapter_note, getattr(engine, "adapter_error", "")) if n]
        adapter = " + its adapter" if engine.adapter_id else ""
        return f"Now chatting with {engine.model_name}{adapter} (context {engine.n_ctx} tokens); the conversation goes on." + "".join(
            f" {n}." for n in notes
        )

    def _live_adapter(self) -> str | None:
        rt = self.runtime
        if not rt.paths.database.exists():
            return None
        live = rt.distill.active()
        return live.id if live else None

    # ------------------------------------------------------------------ moving data in and out

    def export_all(self) -> dict[str, Any]:
        from pmem.core.transfer import export_all

        return export_all(self.runtime.journal.conn, embedder=self.runtime.settings.embedder.name)

    def export_session(self, session_id: str, target: Path) -> Path:
        from pmem.core.transfer import session_markdown

        target.write_text(session_markdown(self.runtime.journal, session_id), encoding="utf-8")
        return target

    def import_file(
        self, path: Path, *, progress: Callable[[str], Any] | None = None, notice: Callable[[str], None] | None = None,
    ) -> ImportResult:
        """Import a pmem export, a generic sessions file or a ChatGPT export: read and validated as a stream before
        anything is written; conversations journaled, the profile restored (a pmem export) or learned from them,
        and everything indexed. ``progress(stage)`` gives a progress callback for each stage."""
        from pmem.core.profile.store import ProfileStore
        from pmem.core.store.feedback import FeedbackStore
        from pmem.core.transfer import import_sessions, read_import

        source = read_import(path)
        rt = self.runtime
        rt.distill_on_close = True
        rt.backup_if_data("before-import")
        with _stage(progress, "Importing conversations") as update:
            summary = import_sessions(rt.journal, source.kind, source.sessions(), progress=update, total=source.sessions_total)
        restored = ProfileStore(rt.journal.conn).restore_facts(source.facts())
        FeedbackStore(rt.journal.conn).restore(source.feedback())
        learned: list[Any] = []
        if source.kind != "pmem" and summary.session_ids:  # a pmem export carries its profile; others teach it
            with _stage(progress, "Learning about you") as update:
                learned = rt.profile.learn_history(summary.session_ids, progress=update)
        memory = rt.memory
        memory.reconcile()
        if memory.notice and notice is not None:
            notice(memory.notice)
        with _stage(progress, "Indexing memories") as update:
            memory.index_pending(progress=update)
        return ImportResult(summary, restored, len(learned))


def _quietly(job: Callable[[], object]) -> Callable[[], None]:
    """``job`` for a background thread: a failure is left for the foreground's own use of the same thing to raise."""

    def run() -> None:
        try:
            job()
        except Exception:  # noqa: BLE001 - raised again, as one line, where the foreground meets it
            pass

    return run


def _today() -> str:
    from datetime import date

    return date.today().isoformat()


@contextmanager
def _stage(progress: Callable[[str], Any] | None, description: str) -> Iterator[Progress | None]:
    if progress is None:
        yield None
        return
    with progress(description) as update:
        yield update


__all__ = ["Assistant", "ImportResult"]
