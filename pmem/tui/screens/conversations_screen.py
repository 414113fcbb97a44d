"""Past conversations: resume, rename, delete. Dismisses with an (action, session id) pair, or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, ListItem, ListView

from pmem.tui.views import SessionView


class _SessionItem(ListItem):
    def __init__(self, session: SessionView) -> None:
        title = session.title or session.first_message or "(empty)"
        text = f"{session.started_at[:16].replace('T', ' ')}  {' '.join(title.split())[:60]}  ({session.turns} turns)"
        super().__init__(Label(text, markup=False))
        self.session = session


class ConversationsScreen(ModalScreen[tuple[str, str] | None]):
    CSS_PATH = "modal.tcss"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "choose('rename')", "Rename"),
        Binding("d,delete", "choose('delete')", "Delete"),
    ]

    def __init__(self, sessions: list[SessionView]) -> None:
        super().__init__()
        self.sessions = sessions

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Conversations · Enter: resume · r: rename · d: delete · Esc: close", classes="question")
            if self.sessions:
                yield ListView(*[_SessionItem(s) for s in self.sessions], id="sessions")
            else:
                yield Label("No conversations yet.")

    def _current(self) -> SessionView | None:
        view = self.query("#sessions")
        if not view:
            return None
        item = view.first(ListView).highlighted_child
        return item.session if isinstance(item, _SessionItem) else None

    def action_choose(self, action: str) -> None:
        session = self._current()
        if session is not None:
            self.dismiss((action, session.id))

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, _SessionItem):
            self.dismiss(("resume", event.item.session.id))
