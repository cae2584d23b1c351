// Binds the push client to a component: `useLive(path)` follows one document while the
// component is mounted and re-renders it on every change (the console never polls for
// what the socket delivers).
import { useEffect, useState } from "preact/hooks";
import { PushClient, socketUrl, type Present, type PushChange, type PushStatus } from "./push";

export interface Live<V> {
  view: V | null;
  position: number | null;
  status: PushStatus;
  detail: string;
  /** The last change applied (what to highlight). */
  last: PushChange<V> | null;
  /** Bumped on every change: a cheap dependency for effects. */
  tick: number;
  /** Who is in the room (sockets opened with `?presence=1`), null until told. */
  here: Present[] | null;
}

/** Clients opened before their screen mounted (see `prefetch`), by socket path. */
const early = new Map<string, PushClient>();

/** Start following `path` now (while the page still asks who is signed in); the first
 * `useLive(path)` adopts the client, snapshot and all. */
export function prefetch(path: string): void {
  if (early.has(path)) return;
  const client = new PushClient({ url: socketUrl(path, window.location) }).start();
  early.set(path, client);
  setTimeout(() => {
    if (early.get(path) === client) {
      early.delete(path); // never adopted (the page went elsewhere)
      client.stop();
    }
  }, 10_000);
}

/** `received`: a performance mark set (detail: the patch's version and when it arrived,
 * wall clock ms) for every patch applied, for the harness and bench/console.py. */
export function useLive<V>(path: string | null, received?: string): Live<V> {
  const [state, setState] = useState<Live<V>>({
    view: null,
    position: null,
    status: "connecting",
    detail: "",
    last: null,
    tick: 0,
    here: null,
  });
  useEffect(() => {
    if (path === null) return undefined;
    const adopted = early.get(path) as PushClient<V> | undefined;
    early.delete(path);
    const client = adopted ?? new PushClient<V>({ url: socketUrl(path, window.location) });
    const sync = (last: PushChange<V> | null) =>
      setState((previous) => ({
        view: client.view,
        position: client.position,
        status: client.status,
        detail: client.detail,
        last: last ?? previous.last,
        tick: previous.tick + 1,
        here: client.here,
      }));
    const offChange = client.onChange((change) => {
      if (received !== undefined && change.kind === "patch") {
        performance.mark(received, { detail: { version: change.version, at: client.receivedAt } });
      }
      sync(change);
    });
    const offStatus = client.onStatus(() => sync(null));
    const offPresence = client.onPresence(() => sync(null));
    client.start();
    if (adopted) sync(null);
    return () => {
      offChange();
      offStatus();
      offPresence();
      client.stop();
    };
  }, [path, received]);
  return state;
}
