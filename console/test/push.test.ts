// The push client against a real WebSocket server (the `ws` package on loopback) that
// plays the server's side of the protocol from a script per connection.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { Operation } from "fast-json-patch";
import { PushClient, type PushChange, type SocketLike } from "../src/push";

type Script = (socket: WebSocket, url: string, index: number) => void;

interface Harness {
  url: string;
  urls: string[];
  close(): Promise<void>;
}

const servers: Harness[] = [];
const clients: PushClient<Doc>[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.stop();
  for (const server of servers.splice(0)) await server.close();
});

async function serve(script: Script): Promise<Harness> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const urls: string[] = [];
  wss.on("connection", (socket, request) => {
    urls.push(request.url ?? "");
    script(socket, request.url ?? "", urls.length - 1);
  });
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("unexpected address");
  const harness: Harness = {
    url: `ws://127.0.0.1:${address.port}/ws/cases/c1`,
    urls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
  servers.push(harness);
  return harness;
}

interface Doc {
  status?: string;
  timeline?: string[];
  title?: string;
  [key: string]: unknown;
}

const connect = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;

function follow(url: string, extra: Partial<ConstructorParameters<typeof PushClient>[0]> = {}) {
  const client = new PushClient<Doc>({ url, connect, initialDelayMs: 20, random: () => 1, ...extra });
  const changes: PushChange<Doc>[] = [];
  client.onChange((change) => changes.push(structuredClone(change)));
  clients.push(client);
  return { client, changes };
}

const snapshot = (position: number, view: Doc | null) =>
  JSON.stringify({ type: "snapshot", position, view });
const patch = (position: number, prev: number, ops: Operation[], version = position) =>
  JSON.stringify({ type: "patch", position, prev, version, ops });
const add = (item: string): Operation[] => [{ op: "add", path: "/timeline/-", value: item }];

async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("PushClient", () => {
  it("applies a snapshot, then patches in order, and emits each change once", async () => {
    const server = await serve((socket) => {
      socket.send(snapshot(10, { status: "open", timeline: [] }));
      socket.send(patch(11, 10, add("a")));
      socket.send(patch(12, 11, add("b")));
      socket.send(JSON.stringify({ type: "heartbeat" }));
      socket.send(patch(14, 12, [{ op: "replace", path: "/status", value: "resolved" }]));
    });
    const { client, changes } = follow(server.url);
    client.start();
    await until(() => client.position === 14, "position 14");
    expect(client.view).toEqual({ status: "resolved", timeline: ["a", "b"] });
    expect(changes.map((c) => [c.kind, c.position])).toEqual([
      ["snapshot", 10],
      ["patch", 11],
      ["patch", 12],
      ["patch", 14],
    ]);
    expect(client.version).toBe(14);
    expect(client.status).toBe("live");
    expect(server.urls).toEqual(["/ws/cases/c1"]);
  });

  it("stamps when each message arrived, before its listeners see it", async () => {
    let sendPatch = () => {};
    const server = await serve((socket) => {
      socket.send(snapshot(10, { timeline: [] }));
      sendPatch = () => socket.send(patch(11, 10, add("a")));
    });
    const { client } = follow(server.url);
    const stamps: number[] = [];
    client.onChange(() => stamps.push(client.receivedAt));
    expect(client.receivedAt).toBe(0);
    const before = Date.now();
    client.start();
    await until(() => client.position === 10, "the snapshot");
    const between = Date.now(); // the patch is sent after this: it cannot have arrived before
    sendPatch();
    await until(() => client.position === 11, "position 11");
    expect(stamps).toHaveLength(2);
    expect(stamps[0]).toBeGreaterThanOrEqual(before);
    expect(stamps[0]).toBeLessThanOrEqual(between);
    expect(stamps[1]).toBeGreaterThanOrEqual(between);
  });

  it("detects a gap by prev and resumes with ?after= the last applied position", async () => {
    const server = await serve((socket, _url, index) => {
      if (index === 0) {
        socket.send(snapshot(5, { timeline: [] }));
        socket.send(patch(6, 5, add("six")));
        socket.send(patch(9, 8, add("nine"))); // 7 and 8 never arrived: a gap
      } else {
        socket.send(patch(7, 6, add("seven")));
        socket.send(patch(8, 7, add("eight")));
        socket.send(patch(9, 8, add("nine")));
      }
    });
    const { client, changes } = follow(server.url);
    client.start();
    await until(() => client.position === 9, "position 9");
    expect(server.urls).toEqual(["/ws/cases/c1", "/ws/cases/c1?after=6"]);
    expect(client.view?.timeline).toEqual(["six", "seven", "eight", "nine"]);
    expect(changes.map((c) => c.position)).toEqual([5, 6, 7, 8, 9]);
  });

  it("never applies a patch twice (a replay overlapping what it has)", async () => {
    const server = await serve((socket, _url, index) => {
      if (index === 0) {
        socket.send(snapshot(1, { timeline: [] }));
        socket.send(patch(2, 1, add("two")));
        socket.close(1012, "restart");
      } else {
        socket.send(patch(2, 1, add("two")));
        socket.send(patch(3, 2, add("three")));
      }
    });
    const { client, changes } = follow(server.url);
    client.start();
    await until(() => client.position === 3, "position 3");
    expect(client.view?.timeline).toEqual(["two", "three"]);
    expect(changes.map((c) => c.position)).toEqual([1, 2, 3]);
  });

  it("resumes after a drop with back-off, and a snapshot then replaces the whole state", async () => {
    const opened: number[] = [];
    const server = await serve((socket, _url, index) => {
      opened.push(Date.now());
      if (index === 0) {
        socket.send(snapshot(3, { title: "old", timeline: ["x"], stale: true }));
        socket.terminate(); // the network drops: no close frame
      } else if (index < 3) {
        socket.terminate(); // still down: the client must back off
      } else {
        socket.send(snapshot(40, { title: "new", timeline: [] }));
      }
    });
    const { client, changes } = follow(server.url, { initialDelayMs: 60 });
    client.start();
    await until(() => client.position === 40, "the fresh snapshot", 5000);
    expect(server.urls).toEqual([
      "/ws/cases/c1",
      "/ws/cases/c1?after=3",
      "/ws/cases/c1?after=3",
      "/ws/cases/c1?after=3",
    ]);
    // immediate, then 60 ms, then 120 ms (random() = 1 keeps the full delay)
    const gaps = opened.slice(1).map((t, i) => t - (opened[i] ?? t));
    expect(gaps[1]).toBeGreaterThanOrEqual(55);
    expect(gaps[2]).toBeGreaterThanOrEqual(115);
    expect(client.view).toEqual({ title: "new", timeline: [] });
    expect(changes.map((c) => c.kind)).toEqual(["snapshot", "snapshot"]);
  });

  it("resumes after the server's 4008 'resume after=N' close", async () => {
    const server = await serve((socket, _url, index) => {
      if (index === 0) {
        socket.send(snapshot(1, { timeline: [] }));
        socket.send(patch(2, 1, add("b")));
        socket.close(4008, "resume after=2");
      } else {
        socket.send(patch(3, 2, add("c")));
      }
    });
    const { client } = follow(server.url);
    client.start();
    await until(() => client.position === 3, "position 3");
    expect(server.urls[1]).toBe("/ws/cases/c1?after=2");
    expect(client.view?.timeline).toEqual(["b", "c"]);
  });

  it("stops on a close no retry can fix, and says why", async () => {
    const server = await serve((socket) => socket.close(4404, "no such case"));
    const { client } = follow(server.url);
    const statuses: string[] = [];
    client.onStatus((status) => statuses.push(status));
    client.start();
    await until(() => client.status === "refused", "refused");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.urls).toHaveLength(1);
    expect(client.detail).toBe("socket closed 4404: no such case");
    expect(statuses.at(-1)).toBe("refused");
  });

  it("keeps its own query when resuming, and reports presence frames without moving", async () => {
    const server = await serve((socket, _url, index) => {
      if (index === 0) {
        socket.send(snapshot(4, { timeline: [] }));
        socket.send(JSON.stringify({ type: "presence", here: [{ id: "a", name: "Ana" }] }));
        socket.terminate();
      } else {
        socket.send(patch(5, 4, add("five")));
      }
    });
    const { client, changes } = follow(`${server.url}?presence=1`);
    const seen: string[][] = [];
    client.onPresence((here) => seen.push(here.map((p) => p.name)));
    client.start();
    await until(() => client.position === 5, "position 5");
    expect(server.urls).toEqual(["/ws/cases/c1?presence=1", "/ws/cases/c1?presence=1&after=4"]);
    expect(seen).toEqual([["Ana"]]);
    expect(changes.map((c) => c.position)).toEqual([4, 5]);
  });

  it("reconnects from a fresh snapshot when a patch does not apply", async () => {
    const server = await serve((socket, _url, index) => {
      if (index === 0) {
        socket.send(snapshot(1, { timeline: [] }));
        socket.send(patch(2, 1, [{ op: "remove", path: "/nothing/here" }]));
      } else {
        socket.send(snapshot(2, { timeline: ["fresh"] }));
      }
    });
    const { client } = follow(server.url);
    client.start();
    await until(() => client.view?.timeline?.[0] === "fresh", "the fresh snapshot");
    expect(server.urls).toEqual(["/ws/cases/c1", "/ws/cases/c1"]);
  });
});
