"""The schema and its migrations, versioned by PRAGMA user_version."""

from __future__ import annotations

# Each entry moves the database from version N to N+1. Never edit a released one; append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        run_key TEXT NOT NULL,
        input_path TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        settings_json TEXT NOT NULL,
        engine TEXT NOT NULL,
        output_path TEXT NOT NULL,
        output_format TEXT NOT NULL,
        state TEXT NOT NULL,
        total_chunks INTEGER NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL,
        output_duration REAL,
        output_bytes INTEGER
    );
    CREATE INDEX runs_by_key ON runs (run_key, created_at);
    CREATE TABLE sections (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        title TEXT NOT NULL,
        PRIMARY KEY (run_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE chunks (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        section INTEGER NOT NULL,
        start_offset INTEGER NOT NULL,
        end_offset INTEGER NOT NULL,
        text TEXT NOT NULL,
        ends_paragraph INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'queued',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        audio_path TEXT,
        codec TEXT,
        sample_rate INTEGER,
        channels INTEGER,
        duration REAL,
        started_at REAL,
        finished_at REAL,
        elapsed REAL,
        job_id TEXT,
        submissions INTEGER NOT NULL DEFAULT 0,
        delay_ms INTEGER,
        execution_ms INTEGER,
        worker_id TEXT,
        cost REAL,
        PRIMARY KEY (run_id, idx)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        chunk INTEGER,
        message TEXT NOT NULL
    );
    CREATE INDEX events_by_run ON events (run_id, id);
    """,
    # 2: counters of the last execution of a run (commits, requests, ...), for `show` and the benchmarks.
    """
    ALTER TABLE runs ADD COLUMN stats_json TEXT
    """,
    # 3: audio made once per text. Each chunk's audio_key names everything its audio depends on (engine, voice, job
    # input, the text as read); any run needing the same key reuses the audio. Edits of a chunk's text, per input.
    """
    ALTER TABLE chunks ADD COLUMN audio_key TEXT;
    CREATE INDEX chunks_by_audio_key ON chunks (audio_key);
    CREATE TABLE text_edits (
        input_hash TEXT NOT NULL,
        original TEXT NOT NULL,
        text TEXT NOT NULL,
        edited_at REAL NOT NULL,
        PRIMARY KEY (input_hash, original)
    ) WITHOUT ROWID
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
