// Long lists show their newest items first-class and the rest on request, so a room with
// thousands of events renders (and re-renders on every patch) as fast as a short one.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

/** The last `limit` of `items` (oldest first), and a button that shows `step` more. */
export function useTail<T>(items: T[], limit: number, step = limit): { shown: T[]; more: ComponentChildren } {
  const [extra, setExtra] = useState(0);
  const count = limit + extra;
  const hidden = Math.max(0, items.length - count);
  const shown = hidden ? items.slice(hidden) : items;
  const more = hidden ? (
    <button type="button" class="link more" onClick={() => setExtra(extra + step)}>
      Show {Math.min(step, hidden)} earlier ({hidden} not shown)
    </button>
  ) : null;
  return { shown, more };
}
