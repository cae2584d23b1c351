"""The search tables (Alembic revision 0010 creates them; `projections.knowledge_index`
fills them): one row per searchable document, the full-text index kept by the database.

- `search_docs`: a resolved (or closed) case or a published (flagged, retired) article:
  kind "case"|"article", id, title, body (the text searched besides the title),
  product_area, status, reuse_count, updated_at, position (of the view it came from).
  PostgreSQL: `tsv`, a generated `tsvector` (title weight A, body B, the `english`
  configuration) under a GIN index. SQLite: an FTS5 table `search_fts` over title and
  body (porter stemming over unicode61, like the english configuration's stemming),
  with `search_docs` as its external content, kept in step by triggers.
- `case_similar`: for each open case, the similar solved cases and articles last
  computed (`hits`, JSON) and the text they were computed from (`basis`, a digest).
"""

from __future__ import annotations

TRACKING_NAME = "knowledge"  # the indexer's row in the event store's `tracking` table

POSTGRES_UP = (
    """
    CREATE TABLE search_docs (
        kind text NOT NULL,
        id text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        product_area text NOT NULL,
        status text NOT NULL,
        reuse_count integer NOT NULL DEFAULT 0,
        updated_at text NOT NULL,
        position bigint NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, title), 'A')
            || setweight(to_tsvector('english'::regconfig, body), 'B')
        ) STORED,
        PRIMARY KEY (kind, id)
    )
    """,
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)",
    """
    CREATE TABLE case_similar (
        case_id text PRIMARY KEY,
        position bigint NOT NULL,
        basis text NOT NULL,
        hits text NOT NULL
    )
    """,
)

SQLITE_UP = (
    """
    CREATE TABLE search_docs (
        doc_no INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        product_area TEXT NOT NULL,
        status TEXT NOT NULL,
        reuse_count INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        position INTEGER NOT NULL,
        UNIQUE (kind, id)
    )
    """,
    """
    CREATE VIRTUAL TABLE search_fts USING fts5(
        title, body, content='search_docs', content_rowid='doc_no',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
        INSERT INTO search_fts (rowid, title, body) VALUES (new.doc_no, new.title, new.body);
    END
    """,
    """
    CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body)
        VALUES ('delete', old.doc_no, old.title, old.body);
    END
    """,
    """
    CREATE TRIGGER search_docs_au AFTER UPDATE OF title, body ON search_docs BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body)
        VALUES ('delete', old.doc_no, old.title, old.body);
        INSERT INTO search_fts (rowid, title, body) VALUES (new.doc_no, new.title, new.body);
    END
    """,
    """
    CREATE TABLE case_similar (
        case_id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        basis TEXT NOT NULL,
        hits TEXT NOT NULL
    )
    """,
)

POSTGRES_DOWN = ("DROP TABLE case_similar", "DROP TABLE search_docs")
SQLITE_DOWN = (
    "DROP TABLE case_similar",
    "DROP TRIGGER search_docs_au",
    "DROP TRIGGER search_docs_ad",
    "DROP TRIGGER search_docs_ai",
    "DROP TABLE search_fts",
    "DROP TABLE search_docs",
)


def statements(dialect: str, *, up: bool = True) -> tuple[str, ...]:
    """The DDL of the search tables for `dialect` ("postgresql" or "sqlite")."""
    if dialect == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    return SQLITE_UP if up else SQLITE_DOWN
