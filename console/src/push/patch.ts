// Applying a patch without touching the document it applies to: every object and array on
// an op's path is copied (shallowly), everything else is shared. A screen can then tell
// what changed by identity (`a.insights !== b.insights`) and skip the rest.
//
// The server emits "add", "replace" and "remove" (projections/patch.py); those take the
// path-copying route. Any other op (RFC 6902's move, copy, test) goes to fast-json-patch
// on a deep copy: correct for every patch, slower only for ops the server never sends.

import { applyPatch, type Operation } from "fast-json-patch";

type Json = unknown;
type Container = Record<string, Json> | Json[];

function unescape(token: string): string {
  return token.includes("~") ? token.replace(/~1/g, "/").replace(/~0/g, "~") : token;
}

function copy(value: Json, path: string): Container {
  if (Array.isArray(value)) return value.slice();
  if (value !== null && typeof value === "object") return { ...(value as Record<string, Json>) };
  throw new Error(`path ${path} runs through a non-container`);
}

function index(array: Json[], token: string, path: string, adding: boolean): number {
  if (adding && token === "-") return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`bad array index in ${path}`);
  const at = Number(token);
  if (at > array.length || (!adding && at === array.length)) throw new Error(`index out of range: ${path}`);
  return at;
}

type Simple = { op: "add" | "replace"; path: string; value: Json } | { op: "remove"; path: string };

function applyOne(doc: Json, op: Simple): Json {
  if (op.path === "") {
    if (op.op === "remove") throw new Error("cannot remove the whole document");
    return op.value;
  }
  const tokens = op.path.slice(1).split("/").map(unescape);
  const root = copy(doc, op.path);
  let parent: Container = root;
  for (const token of tokens.slice(0, -1)) {
    const key: string | number = Array.isArray(parent) ? index(parent, token, op.path, false) : token;
    const child = copy((parent as Record<string | number, Json>)[key], op.path);
    (parent as Record<string | number, Json>)[key] = child;
    parent = child;
  }
  const last = tokens[tokens.length - 1] ?? "";
  if (Array.isArray(parent)) {
    const at = index(parent, last, op.path, op.op === "add");
    if (op.op === "add") parent.splice(at, 0, op.value);
    else if (op.op === "replace") parent[at] = op.value;
    else parent.splice(at, 1);
  } else {
    if (op.op !== "add" && !(last in parent)) throw new Error(`no member at ${op.path}`);
    if (op.op === "remove") delete parent[last];
    else parent[last] = op.value as Json;
  }
  return root;
}

/** `doc` with `ops` applied, `doc` itself unchanged (untouched parts shared). */
export function applyOps<T>(doc: T, ops: Operation[]): T {
  if (ops.some((op) => op.op !== "add" && op.op !== "replace" && op.op !== "remove")) {
    return applyPatch(structuredClone(doc) as object, ops, true, true).newDocument as T;
  }
  let result: Json = doc;
  for (const op of ops as Simple[]) result = applyOne(result, op);
  return result as T;
}
