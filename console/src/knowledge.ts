// Knowledge documents as the server sends them (projections/article_view.py,
// projections/search.py), the people they name, and the highlight of a search hit.
import { get } from "./api";
import type { Agent, Page } from "./views";

/** Where a sentence came from: the event, its stream and version, author and time. */
export interface Source {
  event: string;
  stream_id: string;
  version: number;
  author_id: string;
  at: string;
  /** For a sentence the editor rewrote: where the sentence it replaced came from. */
  was?: Source;
}

export interface Sentence {
  text: string;
  source: Source;
}

export const SECTIONS = ["problem", "environment", "cause", "resolution"] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface Article {
  article_id: string;
  case_id: string;
  version: number;
  position: number;
  status: "draft" | "published" | "flagged" | "retired";
  title: string;
  product_area: string;
  drafted_by: string;
  drafted_at: string;
  updated_at: string;
  published_at: string | null;
  sections: Record<SectionName, Sentence[]>;
  authors: string[];
  flags: { by: string; reason: string; at: string }[];
  reuses: { case_id: string; by: string; at: string }[];
  reuse_count: number;
  standing: number;
}

export interface Hit {
  kind: "article" | "case";
  id: string;
  title: string;
  product_area: string;
  status: string;
  rank: number;
  /** HTML-escaped text with the matched terms in <mark>…</mark> (nothing else). */
  highlight: string;
  reuse_count: number;
  updated_at: string;
}

/** Display names of every agent, by id (loaded once per page). */
let names: Promise<Map<string, string>> | null = null;
export function agentNames(): Promise<Map<string, string>> {
  names ??= get<Page<Agent, string>>("/api/agents?limit=500")
    .then((page) => new Map(page.items.map((a) => [a.agent_id, a.name])))
    .catch(() => new Map());
  return names;
}

export const nameOf = (known: Map<string, string>, id: string): string =>
  known.get(id) ?? `agent ${id.slice(0, 8)}`;

/** The highlight as text runs, `marked` where the server put <mark>; the server has
 * escaped the text, so only its five entities need undoing (no HTML is ever parsed). */
export function runs(highlight: string): { text: string; marked: boolean }[] {
  const unescape = (s: string) =>
    s
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#x27;/g, "'")
      .replace(/&amp;/g, "&");
  const out: { text: string; marked: boolean }[] = [];
  const parts = highlight.split(/(<mark>|<\/mark>)/);
  let marked = false;
  for (const part of parts) {
    if (part === "<mark>") marked = true;
    else if (part === "</mark>") marked = false;
    else if (part) out.push({ text: unescape(part), marked });
  }
  return out;
}
