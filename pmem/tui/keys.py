"""The app's keys, in one table: the bindings, the help screen's table and the key test all read it.

A key that a focused widget also uses is a *priority* binding, so it works wherever the focus is: Ctrl+E
(which the message box would take for "end of line"; End still does that). ``?`` opens help only outside
the message box, where it is not a character being typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str
    """Textual key names, comma-separated."""
    action: str
    id: str
    """Binding id: ``[ui] keys`` remaps by it."""
    label: str
    """The footer's label."""
    shown_as: str
    """How the help screen writes the key."""
    does: str
    """What the help screen says it does."""
    footer: bool = True
    priority: bool = False
    typing: bool = True
    """Whether it works while the message box has the focus (``?`` types a question mark there)."""


KEYS: tuple[Key, ...] = (
    Key("ctrl+n", "new_conversation", "new_conversation", "New", "Ctrl+N", "new conversation"),
    Key("ctrl+o", "conversations", "conversations", "Conversations", "Ctrl+O", "conversations: resume, rename, delete"),
    Key("ctrl+b", "toggle_memory", "toggle_memory", "Memory", "Ctrl+B", "show or hide the memory panel"),
    Key("ctrl+e", "edit_profile", "edit_profile", "Profile", "Ctrl+E", "edit your profile in `$EDITOR` (End moves to the end of the line)", priority=True),
    Key("ctrl+z", "undo_learned", "undo_learned", "Undo learned", "Ctrl+Z", "undo what pmem just learned about you (the notice says what)", footer=False, priority=True),
    Key("ctrl+r", "regenerate", "regenerate", "Regenerate", "Ctrl+R", "answer the last message again (the old reply is kept, marked regenerated)", footer=False, priority=True),
    Key("r", "regenerate", "regenerate_key", "Regenerate", "r", "regenerate, when the message box is not focused", footer=False, typing=False),
    Key("plus", "thumb_up", "thumb_up", "Good", "+", "the last reply was good, when the message box is not focused (also /good)", footer=False, typing=False),
    Key("minus", "thumb_down", "thumb_down", "Bad", "-", "the last reply was not good, when the message box is not focused (also /bad)", footer=False, typing=False),
    Key("e", "edit_reply", "edit_reply", "Edit reply", "e", "edit the last reply in `$EDITOR`: the reply you wanted (also /edit TEXT)", footer=False, typing=False),
    Key("f1", "help", "help", "Help", "F1", "this help"),
    Key("question_mark", "help", "help_key", "Help", "?", "this help, when the message box is not focused", footer=False, typing=False),
    Key("escape", "cancel", "cancel", "Cancel reply", "Esc", "cancel the reply being written (what was written is kept)"),
    Key("ctrl+q", "quit", "quit", "Quit", "Ctrl+Q", "quit"),
)


APP_ACTIONS = {"help", "quit"}
"""The actions of the app itself; every other key acts on the chat screen (``screen.`` in the binding)."""


def app_bindings() -> list[Binding]:
    return [
        Binding(k.keys, k.action if k.action in APP_ACTIONS else f"screen.{k.action}", k.label, show=k.footer, priority=k.priority, id=k.id)
        for k in KEYS
    ]


def help_rows() -> str:
    """The Markdown rows of the help screen's key table (Enter and Ctrl+P come from the input and Textual)."""
    rows = ["| Enter | send |"]
    rows += [f"| {k.shown_as} | {k.does} |" for k in KEYS]
    rows.append("| Ctrl+P | command palette (every action) |")
    return "\n".join(rows)
