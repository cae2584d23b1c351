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

/** Clients open on this page, by socket path (the tests and the bench read them). */
export const openClients = new Map<string, PushClient>();

export function useLive<V>(path: string | null): Live<V> {
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
    const client = new PushClient<V>({ url: socketUrl(path, window.location) });
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
    const offChange = client.onChange((change) => sync(change));
    const offStatus = client.onStatus(() => sync(null));
    const offPresence = client.onPresence(() => sync(null));
    openClients.set(path, client as PushClient);
    client.start();
    return () => {
      offChange();
      offStatus();
      offPresence();
      client.stop();
      if (openClients.get(path) === (client as PushClient)) openClients.delete(path);
    };
  }, [path]);
  return state;
}
