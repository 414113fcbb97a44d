"""The status line: model, context use, speed, memories, background work."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from pmem.tui.views import Status


class StatusBar(Static):
    status: reactive[Status] = reactive(Status, always_update=True)

    def render(self) -> str:
        s = self.status
        state = {"loading": "loading model…", "ready": "ready", "generating": "replying…", "failed": "no model"}.get(s.state, s.state)
        parts = [(s.model or "pmem") + (" + adapter" if s.adapter else ""), state]
        if s.private:
            parts.append("private")
        if s.context_size:
            parts.append(f"ctx {s.context_used}/{s.context_size}")
        if s.tokens_per_s:
            parts.append(f"{s.tokens_per_s:.1f} tok/s")
        parts.append(f"{s.memories} memories")
        if s.background:
            parts.append(s.background)
        return " · ".join(parts)
