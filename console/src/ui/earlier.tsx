// Older items of a bounded case document, fetched a page at a time on request
// (GET /api/cases/{id}/<collection>?before=<seq>&limit=N, oldest first). The document
// holds the newest items (its window); what the window lets go of while the room is open
// is kept here too, so nothing seen disappears.
import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { ApiError, get } from "../api";

const PAGE = 25;

interface Versioned {
  version: number;
}

interface Page<T> {
  items: T[];
  next_before: number | null;
}

export interface Earlier<T> {
  /** Older items then the window, oldest first. */
  all: T[];
  /** The "Load earlier" control (null when nothing is older). */
  more: ComponentChildren;
}

export function useEarlier<T extends Versioned>(
  caseId: string,
  collection: string,
  window: T[],
  total: number,
  enabled = true,
): Earlier<T> {
  const [older, setOlder] = useState<T[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const seen = useRef<T[]>([]);
  // items that slid out of the window since they were shown: keep them
  const first = window[0]?.version ?? Infinity;
  const dropped = seen.current.filter((item) => item.version < first);
  seen.current = window;
  if (dropped.length && (older.length || dropped.length)) {
    const known = new Set(older.map((item) => item.version));
    const fresh = dropped.filter((item) => !known.has(item.version));
    if (fresh.length) setOlder([...older, ...fresh].sort((a, b) => a.version - b.version));
  }
  const all = older.length ? [...older.filter((item) => item.version < first), ...window] : window;
  const hidden = Math.max(0, total - all.length);
  if (!enabled || hidden === 0) return { all, more: error ? <p class="problem">{error}</p> : null };
  const before = all[0]?.version;
  const load = async () => {
    setBusy(true);
    setError("");
    try {
      const query = before === undefined ? `limit=${PAGE}` : `before=${before}&limit=${PAGE}`;
      const page = await get<Page<T>>(`/api/cases/${caseId}/${collection}?${query}`);
      const known = new Set(all.map((item) => item.version));
      setOlder((current) =>
        [...page.items.filter((item) => !known.has(item.version)), ...current].sort((a, b) => a.version - b.version),
      );
    } catch (e) {
      setError(e instanceof ApiError ? (e.problem.detail ?? e.problem.title) : String(e));
    } finally {
      setBusy(false);
    }
  };
  const more = (
    <p class="earlier">
      <button type="button" class="link more" onClick={() => void load()} disabled={busy}>
        Load {Math.min(PAGE, hidden)} earlier ({hidden} not shown)
      </button>
      {error ? <span class="problem" role="alert"> {error}</span> : null}
    </p>
  );
  return { all, more };
}
