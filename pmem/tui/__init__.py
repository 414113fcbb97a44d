"""The Textual face (a full-screen chat). Widgets do no I/O; they talk to ``pmem.core`` through the app."""
