// Supervisors: every open case, live over `/ws/cases`, with filters (priority, swarm
// state, text); resolved and closed cases are archives, read once when that status is
// chosen. Transfer and reopen are in each case room, which supervisors
// may act in. The outcomes dashboard plugs in here.
import { useEffect, useState } from "preact/hooks";
import { get } from "../api";
import { useLive } from "../live";
import type { ScreenProps } from "../routes";
import { Field } from "../ui/command";
import { label, when } from "../ui/format";
import { newestFirst, type CaseList, type CaseSummary, type Page } from "../views";
import { CaseTable } from "./my-cases";

export function Supervisor({ me }: ScreenProps) {
  const [status, setStatus] = useState("open");
  const [priority, setPriority] = useState("");
  const [swarm, setSwarm] = useState("");
  const [text, setText] = useState("");
  const live = useLive<CaseList>("/ws/cases");
  const needle = text.trim().toLowerCase();
  const shown = newestFirst(live.view).filter(
    (c) =>
      (!priority || c.priority === priority) &&
      (!swarm || (swarm === "raised" ? c.swarm.requests > 0 : c.swarm.experts > 0)) &&
      (!needle || `${c.subject} ${c.customer} ${c.owner.name}`.toLowerCase().includes(needle)),
  );
  return (
    <section aria-labelledby="sup-title">
      <h1 id="sup-title">All cases</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <Field label="Status" id="f-status">
          <select id="f-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="open">open (live)</option>
            <option value="resolved">resolved (archive)</option>
            <option value="closed">closed (archive)</option>
          </select>
        </Field>
        <Field label="Priority" id="f-priority">
          <select id="f-priority" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
            <option value="">any</option>
            {["low", "normal", "high", "urgent"].map((p) => (
              <option value={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field label="Swarm" id="f-swarm">
          <select id="f-swarm" value={swarm} onChange={(e) => setSwarm(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="raised">hand raised</option>
            <option value="swarming">experts on it</option>
          </select>
        </Field>
        <Field label="Search subject, customer or owner" id="f-text">
          <input id="f-text" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
      </form>
      {live.status === "refused" ? <p class="problem">{live.detail}</p> : null}
      {status !== "open" ? (
        <Archive key={status} status={status} priority={priority} needle={needle} live={live.view} />
      ) : live.position === null ? (
        <p>Loading…</p>
      ) : (
        <CaseTable cases={shown} caption={`${shown.length} cases`} me={me.id} owner empty="No case matches." />
      )}
    </section>
  );
}

/** Resolved or closed cases (read once when chosen; a reopened one is on the live list,
 * left out here). */
function Archive(props: { status: string; priority: string; needle: string; live: CaseList | null }) {
  const { status, priority, needle, live } = props;
  const [cases, setCases] = useState<CaseSummary[] | null>(null);
  useEffect(() => {
    get<Page<CaseSummary>>(`/api/cases?status=${status}&limit=200`)
      .then((page) => setCases(page.items))
      .catch(() => setCases([]));
  }, [status]);
  if (cases === null) return <p>Loading…</p>;
  const shown = cases.filter(
    (c) =>
      !live?.cases[c.case_id] &&
      (!priority || c.priority === priority) &&
      (!needle || `${c.subject} ${c.customer}`.toLowerCase().includes(needle)),
  );
  return (
    <div class="table-wrap">
      <table class="cases">
        <caption>
          {shown.length} {status} cases
        </caption>
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Status</th>
            <th scope="col">Priority</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((c) => (
            <tr key={c.case_id} data-case={c.case_id}>
              <td>
                <a href={`/cases/${c.case_id}`} data-route>
                  {c.subject}
                </a>
                <div class="muted">{c.customer}</div>
              </td>
              <td>
                <span class={`pill status-${c.status}`}>{label(c.status)}</span>
              </td>
              <td>
                <span class={`pill priority-${c.priority}`}>{c.priority}</span>
              </td>
              <td>{when(c.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
