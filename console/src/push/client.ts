// The push client: follows one view document over `/ws/cases/{id}` or `/ws/inbox`.
//
// Protocol (the server's AsyncAPI document, `app/realtime/push/protocol.py`):
//   {"type":"snapshot","position":P,"view":{...}}      the whole document as of P
//   {"type":"patch","position":p,"prev":q,"version":v,"ops":[...]}   RFC 6902 ops
//   {"type":"heartbeat"}                               every ~15 s
// A patch applies only when `prev` is the position last applied; otherwise there is a gap
// and the client reconnects with `?after=<last applied>`, which replays exactly the
// missing changes (or sends a fresh snapshot). Any drop resumes the same way, with
// exponential back-off. Closes that no retry can fix (4401, 4403, 4404, 4422) end it.
//
// No dependency on the console: usable by any browser or Node program that gives it a
// WebSocket constructor.

import type { Operation } from "fast-json-patch";
import { applyOps } from "./patch";

/** The part of the WebSocket interface the client uses (the browser's, or `ws`'s). */
export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export type Connect = (url: string) => SocketLike;

export type PushStatus = "connecting" | "live" | "waiting" | "refused" | "stopped";

/** What changed: a snapshot replaced the view, or a patch was applied to it. */
export type PushChange<V> =
  | { kind: "snapshot"; position: number; view: V | null }
  | { kind: "patch"; position: number; version: number; ops: Operation[]; view: V | null };

export interface PushOptions {
  /** ws:// or wss:// URL of the socket, without a query. */
  url: string;
  /** Opens a socket (default: the global WebSocket). */
  connect?: Connect;
  /** First retry delay in ms (default 250); doubled per failed attempt up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long (default 45 s). */
  silenceMs?: number;
  /** Jitter source in [0, 1) (default Math.random): each delay is scaled by 0.5-1.0. */
  random?: () => number;
}

/** Close codes after which a retry cannot help (the server's problem table). */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404, 4422]);

/** Someone with the case room open (presence frames, `?presence=1` case sockets). */
export interface Present {
  id: string;
  name: string;
}

interface PresenceFrame {
  type: "presence";
  here: Present[];
}

interface Snapshot {
  type: "snapshot";
  position: number;
  view: unknown;
}
interface Patch {
  type: "patch";
  position: number;
  prev: number | null;
  version: number;
  ops: Operation[];
}

type Listener<V> = (change: PushChange<V>) => void;
type StatusListener = (status: PushStatus, detail: string) => void;
type PresenceListener = (here: Present[]) => void;

function defaultConnect(url: string): SocketLike {
  return new WebSocket(url) as unknown as SocketLike;
}

export class PushClient<V = unknown> {
  /** The document as last applied (null before the first snapshot, or an empty inbox). */
  view: V | null = null;
  /** The log position of the last snapshot or patch applied (null before any). */
  position: number | null = null;
  /** The case version of the last patch applied (null when unknown). */
  version: number | null = null;
  status: PushStatus = "stopped";
  /** The reason of the last close (for people: "socket closed 4404: no such case"). */
  detail = "";
  /** How many times the client connected (the first included). */
  connections = 0;
  /** Who is in the room, from the last presence frame (null: none received). */
  here: Present[] | null = null;
  /** When the last message arrived (ms since the epoch, `Date.now()`; 0: none yet), taken
   * before it is parsed: a listener can tell arrival from its own handling. */
  receivedAt = 0;

  private readonly options: Required<PushOptions>;
  private socket: SocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private silenceTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private readonly listeners = new Set<Listener<V>>();
  private readonly statusListeners = new Set<StatusListener>();
  private readonly presenceListeners = new Set<PresenceListener>();

  constructor(options: PushOptions) {
    this.options = {
      connect: defaultConnect,
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      silenceMs: 45_000,
      random: Math.random,
      ...options,
    };
  }

  /** Listen to every change applied, in order; returns the unsubscribe function. */
  onChange(listener: Listener<V>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Listen to presence frames (who is in the room). */
  onPresence(listener: PresenceListener): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  start(): this {
    if (this.status === "stopped" || this.status === "refused") {
      this.open();
    }
    return this;
  }

  stop(): void {
    this.clearTimers();
    this.setStatus("stopped", "stopped by the page");
    this.drop(1000, "bye");
  }

  /** The URL of the next connection: `?after=P` once something was applied. */
  nextUrl(): string {
    const url = this.options.url;
    if (this.position === null) return url;
    return `${url}${url.includes("?") ? "&" : "?"}after=${this.position}`;
  }

  private open(): void {
    this.clearTimers();
    this.setStatus("connecting", this.position === null ? "" : `resuming after ${this.position}`);
    const socket = this.options.connect(this.nextUrl());
    this.socket = socket;
    this.connections += 1;
    socket.onopen = () => {
      if (this.socket === socket && this.status === "connecting") this.setStatus("live", "");
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closed(event.code, event.reason);
    };
    socket.onerror = () => {
      /* a close event follows */
    };
    this.armSilence();
  }

  private receive(data: unknown): void {
    this.receivedAt = Date.now();
    this.armSilence();
    let message: Snapshot | Patch | PresenceFrame | { type: "heartbeat" };
    try {
      message = JSON.parse(String(data)) as Snapshot | Patch | PresenceFrame | { type: "heartbeat" };
    } catch {
      this.restart("unreadable message");
      return;
    }
    if (message.type === "snapshot") {
      this.view = message.view as V | null;
      this.position = message.position;
      this.version = null;
      this.live();
      this.emit({ kind: "snapshot", position: message.position, view: this.view });
    } else if (message.type === "patch") {
      this.patch(message);
    } else if (message.type === "presence") {
      this.here = message.here;
      for (const listener of this.presenceListeners) listener(message.here);
    }
  }

  private patch(message: Patch): void {
    if (this.position === null) {
      this.restart("a patch before any snapshot");
      return;
    }
    if (message.position <= this.position) {
      return; // already applied (never twice)
    }
    if (message.prev !== this.position) {
      this.restart(`gap: patch ${message.position} follows ${message.prev}, not ${this.position}`);
      return;
    }
    try {
      // a new document sharing what the patch did not touch: the previous one stays as is
      this.view = applyOps((this.view ?? {}) as V, message.ops);
    } catch (error) {
      this.position = null; // start over from a fresh snapshot
      this.restart(`patch ${message.position} did not apply: ${String(error)}`);
      return;
    }
    this.position = message.position;
    this.version = message.version;
    this.live();
    this.emit({
      kind: "patch",
      position: message.position,
      version: message.version,
      ops: message.ops,
      view: this.view,
    });
  }

  private live(): void {
    this.attempt = 0;
    if (this.status !== "live") this.setStatus("live", "");
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    this.clearTimers();
    if (this.status === "stopped") return;
    const detail = `socket closed ${code}${reason ? `: ${reason}` : ""}`;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.setStatus("refused", detail);
      return;
    }
    this.scheduleRetry(detail);
  }

  /** Drop the connection now and reconnect from the last applied position. */
  restart(why: string): void {
    this.drop(4000, why.slice(0, 120));
    this.clearTimers();
    // A gap is not a failure of the network: reconnect at once the first time.
    this.scheduleRetry(why);
  }

  private scheduleRetry(detail: string): void {
    const { initialDelayMs, maxDelayMs, random } = this.options;
    // The first retry after a working connection is immediate; then 250 ms, 500 ms, ...
    const full = Math.min(maxDelayMs, initialDelayMs * 2 ** (this.attempt - 1));
    const delay = this.attempt === 0 ? 0 : full * (0.5 + random() / 2);
    this.attempt += 1;
    this.setStatus("waiting", detail);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private drop(code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      try {
        socket.close(code, reason);
      } catch {
        /* already closed */
      }
    }
  }

  private armSilence(): void {
    if (this.silenceTimer !== null) clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.restart("silent for too long"), this.options.silenceMs);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.silenceTimer !== null) clearTimeout(this.silenceTimer);
    this.retryTimer = null;
    this.silenceTimer = null;
  }

  private setStatus(status: PushStatus, detail: string): void {
    this.status = status;
    this.detail = detail;
    for (const listener of this.statusListeners) listener(status, detail);
  }

  private emit(change: PushChange<V>): void {
    for (const listener of this.listeners) listener(change);
  }
}
