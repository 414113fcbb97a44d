"""Modal screens: help, confirmation, conversations, renaming, a past conversation."""
