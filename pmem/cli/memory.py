"""``pmem memory``: list, search, show, forget, stats, reindex, export, import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pmem.cli.common import assistant, runtime
from pmem.core.errors import InputError

app = typer.Typer(help="Look at, search and forget what pmem remembers.", no_args_is_help=True)


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _episode_dict(e) -> dict:  # type: ignore[no-untyped-def]
    return {"id": e.id, "session": e.session_id, "date": e.created_at, "turns": e.turn_uids, "text": e.transcript()}


def _snippet(text: str, width: int = 90) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


@app.command("list")
def list_(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many, newest first."),
    session: Optional[str] = typer.Option(None, "--session", "-s", help="Only this session."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """List remembered exchanges, newest first."""
    with runtime() as rt:
        episodes = assistant(rt).memories.newest(limit, session)
        if as_json:
            _echo_json([_episode_dict(e) for e in episodes])
            return
    if not episodes:
        typer.echo("No memories yet.")
        return
    for e in episodes:
        typer.echo(f"{e.id}  {e.created_at[:10]}  {_snippet(e.text().splitlines()[0] if e.text() else '')}")


@app.command("search")
def search(
    query: list[str] = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(8, "-k", min=1, help="How many results."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON, with provenance and score parts."),
) -> None:
    """Search memories the way the chat does (dense + lexical + recency)."""
    with runtime() as rt:
        a = assistant(rt)
        hits = a.memories.search(" ".join(query), k, notice=lambda line: typer.echo(f"pmem: {line}", err=True))
        if as_json:
            _echo_json(a.memories.hit_dicts(hits))
            return
        if not hits:
            typer.echo("Nothing found.")
            return
        for h in hits:
            typer.echo(f"{h.id}  {h.date[:10]}  score {h.score:.4f}  {_snippet(h.episode.text(), 70)}")


@app.command("show")
def show(
    memory_id: str = typer.Argument(..., help="A memory id (m-…), as listed by 'pmem memory list'."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Show one memory with where it came from."""
    with runtime() as rt:
        a = assistant(rt)
        episode = a.memories.get(memory_id)
        if episode is None:
            raise InputError(f"no memory with id {memory_id}")
        if as_json:
            _echo_json(_episode_dict(episode))
            return
        session = a.sessions.get(episode.session_id)
    typer.echo(f"{episode.id} · {episode.created_at} · session {episode.session_id}" + (f" ({session.title})" if session and session.title else ""))
    typer.echo(episode.transcript())


@app.command("forget")
def forget(
    memory_id: Optional[str] = typer.Argument(None, help="A memory id (m-…) or a turn id (t-…)."),
    session: Optional[str] = typer.Option(None, "--session", help="Forget a whole session."),
    match: Optional[str] = typer.Option(None, "--match", help="Forget every turn containing this text."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Report as JSON."),
) -> None:
    """Forget a memory, a session, or every turn containing some text: from every file pmem keeps."""
    chosen = [x for x in (memory_id, session, match) if x]
    if len(chosen) != 1:
        raise InputError("give exactly one of: a memory id, --session ID, --match TEXT")
    with runtime() as rt:
        rt.distill_on_close = True  # a retrain without what was forgotten, if an adapter learned it
        a = assistant(rt)
        if memory_id:
            report = a.sessions.forget_turn(memory_id) if memory_id.startswith("t-") else a.memories.forget(memory_id)
        elif session:
            if a.sessions.get(session) is None:
                raise InputError(f"no session with id {session}")
            if not yes and not typer.confirm(f"Forget session {session} and everything said in it?"):
                raise typer.Exit(1)
            report = a.sessions.forget(session)
        else:
            assert match is not None
            if not match.strip():
                raise InputError("--match needs some text")
            count = a.memories.count_matching(match)
            if count == 0:
                raise InputError(f"no turn contains {match!r}; nothing forgotten")
            if not yes and not typer.confirm(f"Forget {count} turn(s) containing {match!r}?"):
                raise typer.Exit(1)
            report = a.memories.forget_matching(match)
    if as_json:
        _echo_json({"turns": report.turns, "memories": report.episodes, "vectors": report.vectors, "sessions": report.sessions})
    else:
        typer.echo(report.summary())


@app.command("stats")
def stats(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """How much pmem remembers, and the state of its indexes."""
    with runtime() as rt:
        data = assistant(rt).memories.stats()
    if as_json:
        _echo_json(data)
        return
    for key, value in data.items():
        typer.echo(f"{key:<16} {value}")


@app.command("reindex")
def reindex() -> None:
    """Rebuild the lexical and vector indexes from the journal (e.g. after changing the embedder)."""
    from pmem.cli.progress import progress_bar

    with runtime() as rt, progress_bar("Indexing memories") as update:
        count = assistant(rt).memories.reindex(progress=update)
        embedder = rt.memory.embedder
    how = ", ".join((["tuned"] if embedder.tuning else []) + [embedder.precision])
    typer.echo(f"reindexed {count} {'memory' if count == 1 else 'memories'} with {embedder.name} ({how})")


@app.command("export")
def export(file: Optional[Path] = typer.Argument(None, help="Write here instead of stdout.")) -> None:
    """Export everything pmem knows as one JSON file (same as 'pmem export')."""
    from pmem.cli.transfer import export_command

    export_command(file)


@app.command("import")
def import_(file: Path = typer.Argument(..., help="A pmem export, a generic sessions file, or ChatGPT's conversations.json.")) -> None:
    """Import conversations (same as 'pmem import')."""
    from pmem.cli.transfer import import_command

    import_command(file)
