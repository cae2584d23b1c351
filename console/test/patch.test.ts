// The path-copying applier agrees with fast-json-patch (RFC 6902) and never touches the
// document it was given.
import { applyPatch, type Operation } from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { applyOps } from "../src/push/patch";

const base = () => ({
  status: "open",
  participants: { a: { name: "Ana" } },
  timeline: [{ v: 1 }, { v: 2 }],
  "odd/key~": { x: 1 },
});

const patches: Operation[][] = [
  [{ op: "add", path: "/timeline/-", value: { v: 3 } }],
  [{ op: "add", path: "/timeline/0", value: { v: 0 } }],
  [{ op: "replace", path: "/status", value: "resolved" }],
  [{ op: "add", path: "/participants/b", value: { name: "Ben" } }],
  [{ op: "remove", path: "/participants/a" }],
  [{ op: "remove", path: "/timeline/1" }],
  [{ op: "replace", path: "/odd~1key~0/x", value: 2 }],
  [{ op: "replace", path: "", value: { fresh: true } }],
  [
    { op: "add", path: "/timeline/-", value: { v: 3 } },
    { op: "replace", path: "/timeline/2/v", value: 4 },
    { op: "move", from: "/status", path: "/state" },
  ],
];

describe("applyOps", () => {
  it.each(patches.map((ops) => [JSON.stringify(ops), ops] as const))("%s", (_name, ops) => {
    const doc = base();
    const before = JSON.stringify(doc);
    const expected = applyPatch(base(), ops, true, true).newDocument;
    expect(applyOps(doc, ops)).toEqual(expected);
    expect(JSON.stringify(doc)).toBe(before); // untouched
  });

  it("shares what the patch did not touch", () => {
    const doc = base();
    const next = applyOps(doc, [{ op: "add", path: "/timeline/-", value: { v: 3 } }]);
    expect(next.participants).toBe(doc.participants);
    expect(next.timeline).not.toBe(doc.timeline);
    expect(next.timeline[0]).toBe(doc.timeline[0]);
  });

  it("refuses a path that is not there", () => {
    expect(() => applyOps(base(), [{ op: "remove", path: "/nothing" }])).toThrow();
    expect(() => applyOps(base(), [{ op: "replace", path: "/timeline/9", value: 1 }])).toThrow();
    expect(() => applyOps(base(), [{ op: "add", path: "/nothing/deeper", value: 1 }])).toThrow();
  });
});
