"""The profile: facts about the user, each with provenance, time and a history of updates."""
