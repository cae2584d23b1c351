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

Revision 0018 (`GRAMS_*`) adds `title_grams` and `body_grams`: the character bigrams of
the title's and the body's CJK runs (`projections.cjk`), searched with the same weights
as their text (PostgreSQL: the `tsv` is recomputed with them, A and B; SQLite: the FTS5
table gains the two columns, bm25 weights 4 and 1). Scripts written without spaces
(Chinese, Japanese; Korean's words with their particles) are found by their bigrams.
The statements of 0010 above are frozen: 0018's are their own.
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
    """The DDL of the search tables for `dialect` ("postgresql" or "sqlite"), as
    revision 0010 created them."""
    if dialect == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    return SQLITE_UP if up else SQLITE_DOWN


_REINDEX = f"DELETE FROM tracking WHERE application_name = '{TRACKING_NAME}'"

GRAMS_POSTGRES_UP = (
    "ALTER TABLE search_docs ADD COLUMN title_grams text NOT NULL DEFAULT ''",
    "ALTER TABLE search_docs ADD COLUMN body_grams text NOT NULL DEFAULT ''",
    "ALTER TABLE search_docs DROP COLUMN tsv",
    """
    ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, body), 'B')
        || setweight(to_tsvector('english'::regconfig, title_grams), 'A')
        || setweight(to_tsvector('english'::regconfig, body_grams), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)",
    _REINDEX,
)
GRAMS_POSTGRES_DOWN = (
    "ALTER TABLE search_docs DROP COLUMN tsv",
    "ALTER TABLE search_docs DROP COLUMN title_grams",
    "ALTER TABLE search_docs DROP COLUMN body_grams",
    """
    ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, body), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)",
)

_SQLITE_DROP_FTS = (
    "DROP TRIGGER search_docs_au",
    "DROP TRIGGER search_docs_ad",
    "DROP TRIGGER search_docs_ai",
    "DROP TABLE search_fts",
)
GRAMS_SQLITE_UP = (
    *_SQLITE_DROP_FTS,
    "ALTER TABLE search_docs ADD COLUMN title_grams TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE search_docs ADD COLUMN body_grams TEXT NOT NULL DEFAULT ''",
    """
    CREATE VIRTUAL TABLE search_fts USING fts5(
        title, body, title_grams, body_grams, content='search_docs', content_rowid='doc_no',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
        INSERT INTO search_fts (rowid, title, body, title_grams, body_grams)
        VALUES (new.doc_no, new.title, new.body, new.title_grams, new.body_grams);
    END
    """,
    """
    CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body, title_grams, body_grams)
        VALUES ('delete', old.doc_no, old.title, old.body, old.title_grams, old.body_grams);
    END
    """,
    """
    CREATE TRIGGER search_docs_au AFTER UPDATE OF title, body, title_grams, body_grams
    ON search_docs BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body, title_grams, body_grams)
        VALUES ('delete', old.doc_no, old.title, old.body, old.title_grams, old.body_grams);
        INSERT INTO search_fts (rowid, title, body, title_grams, body_grams)
        VALUES (new.doc_no, new.title, new.body, new.title_grams, new.body_grams);
    END
    """,
    "INSERT INTO search_fts (search_fts) VALUES ('rebuild')",
    _REINDEX,
)
GRAMS_SQLITE_DOWN = (
    *_SQLITE_DROP_FTS,
    "ALTER TABLE search_docs DROP COLUMN title_grams",
    "ALTER TABLE search_docs DROP COLUMN body_grams",
    *SQLITE_UP[1:5],  # 0010's FTS table and triggers
    "INSERT INTO search_fts (search_fts) VALUES ('rebuild')",
)


def grams_statements(dialect: str, *, up: bool = True) -> tuple[str, ...]:
    """The DDL of revision 0018 (the CJK bigram columns) for `dialect`."""
    if dialect == "postgresql":
        return GRAMS_POSTGRES_UP if up else GRAMS_POSTGRES_DOWN
    return GRAMS_SQLITE_UP if up else GRAMS_SQLITE_DOWN
