// The documents the server sends (case view, inbox, board, lists): only the members the
// console reads are typed; the server may add more.

export interface Person {
  id: string;
  name: string;
}

export interface Entry {
  id: string;
  author_id: string;
  text: string;
  at: string;
  version: number;
}

export interface CustomerMessage extends Entry {
  direction: "inbound" | "outbound";
}

export interface SwarmRequest {
  id: string;
  requested_by: string;
  help_needed: string;
  skills_wanted: string[];
  urgency: string;
  at: string;
  version: number;
  status: string;
}

export interface Participant {
  id: string;
  name: string;
  role: "owner" | "expert";
  via: string;
  joined_at: string;
  joined_version: number;
  left_at: string | null;
  left_version: number | null;
  note: string;
}

export interface Invitation {
  id: string;
  expert_id: string;
  expert_name: string;
  invited_by: string;
  reason: string;
  at: string;
  version: number;
  status: "pending" | "accepted" | "declined" | "withdrawn";
  decline_reason: string | null;
}

export interface Insight {
  id: string;
  author_id: string;
  kind: string;
  text: string;
  refers_to: string[];
  mentions: string[];
  at: string;
  version: number;
}

export interface Proposal {
  id: string;
  author_id: string;
  summary: string;
  steps: string[];
  cites: string[];
  cited_insights: { id: string; kind: string; text: string; author_id: string }[];
  at: string;
  version: number;
  status: "open" | "accepted" | "rejected" | "withdrawn";
  decided_by?: string | null;
  reason?: string | null;
}

export interface TimelineItem {
  version: number;
  position: number;
  at: string;
  type: string;
  by: string;
  text: string;
}

export interface CaseView {
  case_id: string;
  version: number;
  position: number;
  status: string;
  priority: string;
  channel?: string;
  product_area?: string;
  opened_at: string;
  updated_at: string;
  owner: Person;
  customer: { name: string; contact: string };
  problem: { subject: string; description: string };
  context: Record<string, Entry[]>;
  customer_messages: CustomerMessage[];
  swarm_requests: Record<string, SwarmRequest>;
  participants: Record<string, Participant>;
  // Bounded (projections/case_view.py): pending invitations and open swarm requests
  // only; the newest insights and proposals (older ones: GET /api/cases/{id}/insights
  // and /proposals?before=&limit=); totals counts everything.
  invitations: Record<string, Invitation>;
  insights: Insight[];
  proposals: Proposal[];
  resolution: { summary: string; proposal_id: string | null; resolved_by: string; version: number } | null;
  closure?: unknown;
  acknowledgements: Record<string, number>;
  timeline: TimelineItem[];
  timeline_total: number;
  totals?: { insights: number; proposals: number; customer_messages: number; swarm_requests: number; invitations: number; context: Record<string, number> };
}

export interface CaseSummary {
  case_id: string;
  owner_id: string;
  status: string;
  priority: string;
  subject: string;
  customer: string;
  opened_at: string;
  updated_at: string;
  version: number;
  position: number;
}

/** A case on a live list (projections/lists.py `case_entry`): `/ws/mycases`, `/ws/cases`. */
export interface CaseEntry {
  case_id: string;
  opened_at: string;
  opened_position: number;
  status: string;
  priority: string;
  product_area?: string | null;
  subject: string;
  customer: string;
  owner: Person;
  swarm: { requests: number; experts: number; invited: number };
  latest: { type: string; by: string | null; by_name: string | null; at: string } | null;
  /** My cases only: how I am on the case. */
  relation?: "owner" | "participant" | "invited";
}

/** `/ws/mycases` and `/ws/cases`: the cases by id (not closed). */
export interface CaseList {
  cases: Record<string, CaseEntry>;
}

/** One open swarm request (projections/rows.py `board_rows`; `/ws/swarms`, GET /api/swarms). */
export interface BoardItem {
  id: string;
  case_id: string;
  subject: string;
  priority: string;
  participants: number;
  help_needed: string;
  skills_wanted: string[];
  urgency: string;
  at: string;
  version: number;
  swarm_urgency?: string | null;
  [member: string]: unknown;
}

/** `/ws/swarms`: the open requests by id. */
export interface BoardList {
  requests: Record<string, BoardItem>;
}

/** Newest first (the order of GET /api/cases). */
export function newestFirst(list: CaseList | null): CaseEntry[] {
  return Object.values(list?.cases ?? {}).sort((a, b) => b.opened_position - a.opened_position);
}

export interface Page<T, C = number> {
  items: T[];
  next_cursor: C | null;
}

export interface InboxItem {
  id: string;
  kind: "invitation" | "mention" | "decision";
  case_id: string;
  subject: string;
  at: string;
  position: number;
  status?: string;
  reason?: string | null;
  invited_by?: string;
  decision?: string;
  decided_by?: string;
  text?: string;
  [member: string]: unknown;
}

export interface Inbox {
  agent_id: string;
  position: number;
  items: InboxItem[];
}

export interface Agent {
  agent_id: string;
  subject: string;
  name: string;
  skills: Record<string, number>;
  availability: string;
}

export interface Me {
  id: string;
  subject: string;
  name: string;
  role: "agent" | "supervisor" | "admin" | "service";
}

export const isSupervisor = (me: Me): boolean => me.role === "supervisor" || me.role === "admin";

/** One factor of a suggestion's score (`GET /api/cases/{id}/suggestions`). */
export interface Factor {
  value: number;
  weight: number;
  contribution: number;
}

export interface Suggestion {
  rank: number;
  agent_id: string;
  name: string;
  score: number;
  factors: Record<string, Factor>;
}

export interface Suggestions {
  case_id: string;
  wanted: string[];
  wanted_from: string;
  suggestions: Suggestion[];
  excluded: { agent_id: string; reason: string }[];
  cover: { agent_ids: string[]; uncovered: string[]; method: string };
}
