"""Keys and slash commands."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from pmem.tui import slash_commands
from pmem.tui.keys import KEYS, help_rows

HELP = """\
# pmem

A chat with a local, lifelong memory. Everything stays on this computer.

## Keys

| key | action |
| --- | --- |
{keys}

In the memory panel: **d** forgets the selected fact or memory, **o** or Enter opens the conversation
a memory came from.

## Slash commands

| command | what it does |
| --- | --- |
{slash}

Keys can be remapped in the config file: `[ui] keys = {{ toggle_memory = "f2" }}` (binding ids:
{ids}).
"""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "modal.tcss"
    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Markdown(HELP.format(keys=help_rows(), slash=slash_commands.help_rows(), ids=", ".join(k.id for k in KEYS)))
