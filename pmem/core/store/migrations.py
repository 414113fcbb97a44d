"""Named, ordered schema migrations, recorded in ``_migrations`` (never edit one that has shipped; add a new one)."""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_journal",
        """
        CREATE TABLE sessions (
            id          TEXT PRIMARY KEY,
            title       TEXT NOT NULL DEFAULT '',
            started_at  TEXT NOT NULL,
            source      TEXT NOT NULL DEFAULT 'chat',
            external_id TEXT
        );
        CREATE UNIQUE INDEX sessions_external ON sessions(source, external_id) WHERE external_id IS NOT NULL;
        CREATE TABLE turns (
            id          INTEGER PRIMARY KEY,
            uid         TEXT NOT NULL UNIQUE,
            session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            role        TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
            content     TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            model       TEXT NOT NULL DEFAULT '',
            status      TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'cancelled'))
        );
        CREATE INDEX turns_session ON turns(session_id, id);
        """,
    ),
]

MIGRATIONS += [
    (
        "0002_lexical_index",
        # Lexical search over the journal (BM25). External content: the text lives once, in ``turns``.
        """
        CREATE VIRTUAL TABLE turns_fts USING fts5(
            content, content='turns', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN
            INSERT INTO turns_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER turns_fts_update AFTER UPDATE OF content ON turns BEGIN
            INSERT INTO turns_fts(turns_fts, rowid, content) VALUES ('delete', old.id, old.content);
            INSERT INTO turns_fts(rowid, content) VALUES (new.id, new.content);
        END;
        INSERT INTO turns_fts(turns_fts) VALUES ('rebuild');
        """,
    ),
    (
        "0003_episodes",
        # Episodes (one exchange: a user turn and the replies to it) are the unit of episodic memory.
        # Derived from the journal; ``indexed`` records whether the vector store has it.
        """
        CREATE TABLE episodes (
            id             TEXT PRIMARY KEY,
            session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            first_turn_id  INTEGER NOT NULL,
            last_turn_id   INTEGER NOT NULL,
            created_at     TEXT NOT NULL,
            indexed        INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX episodes_session ON episodes(session_id, first_turn_id);
        CREATE INDEX episodes_pending ON episodes(indexed) WHERE indexed = 0;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    ),
]

MIGRATIONS += [
    (
        "0004_profile",
        # Facts about the user. A fact is current while valid_to is NULL; a newer, contradicting fact
        # supersedes it (valid_to set, superseded_by pointing at the newer one): history, not deletion.
        """
        CREATE TABLE facts (
            id            TEXT PRIMARY KEY,
            category      TEXT NOT NULL,
            attribute     TEXT NOT NULL,
            value         TEXT NOT NULL,
            statement     TEXT NOT NULL,
            confidence    REAL NOT NULL DEFAULT 0.5,
            origin        TEXT NOT NULL DEFAULT 'extracted' CHECK (origin IN ('extracted', 'explicit', 'edited')),
            learned_at    TEXT NOT NULL,
            valid_from    TEXT NOT NULL,
            valid_to      TEXT,
            superseded_by TEXT REFERENCES facts(id) ON DELETE SET NULL
        );
        CREATE INDEX facts_current ON facts(category, attribute) WHERE valid_to IS NULL;
        CREATE TABLE fact_sources (
            fact_id  TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
            turn_id  INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            PRIMARY KEY (fact_id, turn_id)
        );
        CREATE INDEX fact_sources_turn ON fact_sources(turn_id);
        """,
    ),
]

MIGRATIONS += [
    (
        "0005_adapters",
        # LoRA adapters distilled from the profile and memories, and the facts and turns each was trained on.
        # Deleting a fact or a turn (forgetting) marks every adapter trained on it stale in the same
        # transaction, so no process can load it again; its file is removed by the purge that follows.
        """
        CREATE TABLE adapters (
            id           TEXT PRIMARY KEY,
            file         TEXT NOT NULL,
            base_model   TEXT NOT NULL,
            base_name    TEXT NOT NULL DEFAULT '',
            created_at   TEXT NOT NULL,
            status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'stale', 'replaced')),
            reason       TEXT NOT NULL DEFAULT '',
            examples     INTEGER NOT NULL DEFAULT 0,
            facts        INTEGER NOT NULL DEFAULT 0,
            episodes     INTEGER NOT NULL DEFAULT 0,
            epochs       INTEGER NOT NULL DEFAULT 0,
            rank         INTEGER NOT NULL DEFAULT 0,
            alpha        REAL NOT NULL DEFAULT 0,
            first_loss   REAL,
            final_loss   REAL,
            train_s      REAL,
            bytes        INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX adapters_active ON adapters(base_model, created_at) WHERE status = 'active';
        CREATE TABLE adapter_sources (
            adapter_id TEXT NOT NULL REFERENCES adapters(id) ON DELETE CASCADE,
            kind       TEXT NOT NULL CHECK (kind IN ('fact', 'turn')),
            ref        TEXT NOT NULL,
            PRIMARY KEY (adapter_id, kind, ref)
        );
        CREATE INDEX adapter_sources_ref ON adapter_sources(kind, ref);
        CREATE TRIGGER facts_forgotten_stale_adapters AFTER DELETE ON facts BEGIN
            UPDATE adapters SET status = 'stale', reason = 'forgotten fact'
            WHERE status = 'active' AND id IN (SELECT adapter_id FROM adapter_sources WHERE kind = 'fact' AND ref = OLD.id);
        END;
        CREATE TRIGGER turns_forgotten_stale_adapters AFTER DELETE ON turns BEGIN
            UPDATE adapters SET status = 'stale', reason = 'forgotten memory'
            WHERE status = 'active' AND id IN (SELECT adapter_id FROM adapter_sources WHERE kind = 'turn' AND ref = CAST(OLD.id AS TEXT));
        END;
        """,
    ),
]

MIGRATIONS += [
    (
        "0006_turn_vectors",
        # Retrieval now keeps one vector per turn (with its neighbours as context) instead of one per episode:
        # every episode is re-embedded by the background indexer; the old collection is dropped on first open.
        """
        UPDATE episodes SET indexed = 0;
        """,
    ),
]

MIGRATIONS += [
    (
        "0007_fact_tombstones",
        # A fact the user forgot must not come back when the profile is re-derived from the journal
        # (`pmem profile rebuild`): the turns it came from are marked as yielding nothing for that attribute.
        # No value is kept, only which turn and which attribute; the mark goes with the turn.
        """
        CREATE TABLE fact_tombstones (
            turn_id    INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            category   TEXT NOT NULL,
            attribute  TEXT NOT NULL,
            PRIMARY KEY (turn_id, category, attribute)
        );
        """,
    ),
]

MIGRATIONS += [
    (
        "0008_feedback",
        # The user's judgement of replies (thumbs, an edited reply, a regeneration), each tied to the reply it is
        # about, and the preference pairs derived from it. A pair holds no text of its own: its chosen and
        # rejected texts are turns (or the user's edit, a feedback row), so forgetting either forgets the pair.
        # A pair the user forgot is remembered only by its turn ids, so that it is not derived again.
        """
        CREATE TABLE feedback (
            id          INTEGER PRIMARY KEY,
            turn_id     INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            kind        TEXT NOT NULL CHECK (kind IN ('up', 'down', 'edit', 'retry')),
            text        TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL
        );
        CREATE INDEX feedback_turn ON feedback(turn_id);
        CREATE TABLE preference_pairs (
            id               TEXT PRIMARY KEY,
            kind             TEXT NOT NULL CHECK (kind IN ('edit', 'retry')),
            prompt_turn      INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            chosen_turn      INTEGER REFERENCES turns(id) ON DELETE CASCADE,
            chosen_feedback  INTEGER REFERENCES feedback(id) ON DELETE CASCADE,
            rejected_turn    INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            created_at       TEXT NOT NULL,
            CHECK ((chosen_turn IS NULL) != (chosen_feedback IS NULL))
        );
        CREATE UNIQUE INDEX preference_pairs_key
            ON preference_pairs(prompt_turn, rejected_turn, IFNULL(chosen_turn, 0), IFNULL(chosen_feedback, 0));
        CREATE TABLE preference_tombstones (
            prompt_turn    INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            chosen_turn    INTEGER NOT NULL,
            rejected_turn  INTEGER NOT NULL,
            PRIMARY KEY (prompt_turn, chosen_turn, rejected_turn)
        );
        -- The pairs an adapter learned from: forgetting one (or a turn or an edit it came from) stales the adapter.
        CREATE TABLE adapter_pairs (
            adapter_id TEXT NOT NULL REFERENCES adapters(id) ON DELETE CASCADE,
            pair_id    TEXT NOT NULL,
            PRIMARY KEY (adapter_id, pair_id)
        );
        CREATE INDEX adapter_pairs_pair ON adapter_pairs(pair_id);
        CREATE TRIGGER pairs_forgotten_stale_adapters AFTER DELETE ON preference_pairs BEGIN
            UPDATE adapters SET status = 'stale', reason = 'forgotten preference'
            WHERE status = 'active' AND id IN (SELECT adapter_id FROM adapter_pairs WHERE pair_id = OLD.id);
        END;
        """,
    ),
]

MIGRATIONS += [
    (
        "0009_fact_endings",
        # An ending ("Tiago and I broke up", "Bento passed away") is learned from the journal like a fact, so it
        # has sources too: `pmem profile show --recent` names the turn, forgetting that turn reopens the fact, and
        # an ending the user took back (undo) is remembered by turn and attribute, so that a rebuild from the
        # journal does not apply it again. As with fact_tombstones, no value is kept.
        """
        CREATE TABLE fact_endings (
            fact_id  TEXT NOT NULL REFERENCES facts(id) ON DELETE CASCADE,
            turn_id  INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            PRIMARY KEY (fact_id, turn_id)
        );
        CREATE INDEX fact_endings_turn ON fact_endings(turn_id);
        CREATE TABLE ending_tombstones (
            turn_id    INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            category   TEXT NOT NULL,
            attribute  TEXT NOT NULL,
            PRIMARY KEY (turn_id, category, attribute)
        );
        """,
    ),
]
