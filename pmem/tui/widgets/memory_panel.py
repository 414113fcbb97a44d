"""The memory side panel: what pmem knows about you, and which memories went into the last reply."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, ListItem, ListView

from pmem.tui.views import FactView, MemoryView


class _Item(ListItem):
    def __init__(self, kind: str, item_id: str, text: str, session_id: str = "") -> None:
        super().__init__(Label(text, markup=False))
        self.kind = kind
        self.item_id = item_id
        self.text = text
        self.session_id = session_id


class MemoryPanel(Vertical):
    BINDINGS = [
        Binding("d,delete", "forget", "Forget", id="forget_selected"),
        Binding("o", "open", "Open source", id="open_source"),
    ]

    class ForgetRequested(Message):
        def __init__(self, kind: str, item_id: str, text: str) -> None:
            super().__init__()
            self.kind = kind
            self.item_id = item_id
            self.text = text

    class OpenSession(Message):
        def __init__(self, session_id: str, memory_id: str) -> None:
            super().__init__()
            self.session_id = session_id
            self.memory_id = memory_id

    def compose(self) -> ComposeResult:
        yield Label("About you", classes="heading")
        yield ListView(id="facts")
        yield Label("Used in the last reply", classes="heading")
        yield ListView(id="memories")
        yield Label("d: forget · o / enter: open source", classes="hint")

    def show_facts(self, facts: list[FactView]) -> None:
        view = self.query_one("#facts", ListView)
        view.clear()
        if not facts:
            view.append(_Item("none", "", "Nothing yet: tell pmem about yourself."))
        for f in facts:
            view.append(_Item("fact", f.id, f"{f.statement}  ({f.date[:10]})"))

    def show_memories(self, memories: list[MemoryView]) -> None:
        view = self.query_one("#memories", ListView)
        view.clear()
        if not memories:
            view.append(_Item("none", "", "No memories were used."))
        for m in memories:
            first = " ".join(m.text.split())
            view.append(_Item("memory", m.id, f"[{m.date[:10]}] {first[:120]}", m.session_id))

    def _selected(self) -> _Item | None:
        focused = self.screen.focused
        if isinstance(focused, ListView) and isinstance(focused.highlighted_child, _Item):
            item = focused.highlighted_child
            return item if item.kind != "none" else None
        return None

    def action_forget(self) -> None:
        item = self._selected()
        if item is not None:
            self.post_message(self.ForgetRequested(item.kind, item.item_id, item.text))

    def action_open(self) -> None:
        item = self._selected()
        if item is not None and item.kind == "memory":
            self.post_message(self.OpenSession(item.session_id, item.item_id))

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, _Item) and event.item.kind == "memory":
            self.post_message(self.OpenSession(event.item.session_id, event.item.item_id))
