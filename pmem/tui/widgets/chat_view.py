"""The conversation: a scrolling column of messages that follows new text until the user scrolls up."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import VerticalScroll

from pmem.tui.views import TurnView
from pmem.tui.widgets.message_bubble import MessageBubble


class ChatView(VerticalScroll):
    can_focus = True

    def on_mount(self) -> None:
        self.anchor()

    async def add_message(self, role: str, text: str = "", *, cancelled: bool = False) -> MessageBubble:
        return await self.add(MessageBubble(role, text, cancelled=cancelled))

    async def add(self, bubble: MessageBubble) -> MessageBubble:
        await self.mount(bubble)
        self.anchor()
        return bubble

    async def show_turns(self, turns: Iterable[TurnView]) -> None:
        await self.remove_children()
        for turn in turns:
            await self.mount(MessageBubble(turn.role, turn.content, cancelled=turn.cancelled))
        self.anchor()
        self.scroll_end(animate=False)
