"""Where the user types; slash commands are suggested as you type them."""

from __future__ import annotations

from textual.suggester import SuggestFromList
from textual.widgets import Input

SLASH_COMMANDS = ["/remember ", "/forget ", "/profile", "/new", "/model", "/export", "/help"]


class PromptInput(Input):

    def __init__(self) -> None:
        super().__init__(
            placeholder="Message pmem…  (/help for commands, Esc cancels a reply)",
            suggester=SuggestFromList(SLASH_COMMANDS, case_sensitive=False),
            id="prompt",
        )
