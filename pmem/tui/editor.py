"""Handing the terminal to ``$EDITOR`` and taking it back: one place for the profile's and the reply's edits."""

from __future__ import annotations

import subprocess

from textual.app import App, SuspendNotSupported


def edit_in_editor(app: App[object], command: list[str]) -> int:
    """Run the editor with the app suspended; its exit status. Without a terminal to hand over (a headless or web
    driver) the editor runs as it is, reading nothing."""
    try:
        with app.suspend():
            return subprocess.call(command)
    except SuspendNotSupported:
        return subprocess.call(command, stdin=subprocess.DEVNULL)
