// My cases: the cases I own, help on or am invited to, live over one socket
// (`/ws/mycases`): a case handed to me comes in, status, priority, swarm state and the
// latest change update in place, a closed case leaves (closed ones: the archive below).
import { useEffect, useState } from "preact/hooks";
import { command, get } from "../api";
import { useLive } from "../live";
import type { ScreenProps } from "../routes";
import { navigate } from "../router";
import { Field, ProblemNote, useCommand } from "../ui/command";
import { label, when, words } from "../ui/format";
import { newestFirst, type CaseEntry, type CaseList, type CaseSummary, type Page } from "../views";

export function MyCases({ me }: ScreenProps) {
  const live = useLive<CaseList>("/ws/mycases");
  const cases = newestFirst(live.view);
  const loading = live.position === null;
  const of = (relation: CaseEntry["relation"]) => cases.filter((c) => c.relation === relation);
  return (
    <section aria-labelledby="my-cases-title">
      <h1 id="my-cases-title">My cases</h1>
      <OpenCase />
      {live.status === "refused" ? <p class="problem">{live.detail}</p> : null}
      {loading ? (
        <p>Loading…</p>
      ) : (
        <>
          <CaseTable cases={of("owner")} caption="Cases I own" me={me.id} empty="No cases yet. Open one above." />
          <CaseTable cases={of("participant")} caption="Cases I help on" me={me.id} />
          <CaseTable cases={of("invited")} caption="Cases I am invited to" me={me.id} />
        </>
      )}
      <ClosedCases live={live.view} />
    </section>
  );
}

export function CaseTable({
  cases,
  caption,
  me,
  empty,
  owner,
}: {
  cases: CaseEntry[];
  caption: string;
  me: string;
  empty?: string;
  owner?: boolean;
}) {
  if (cases.length === 0) return empty ? <p>{empty}</p> : null;
  return (
    <div class="table-wrap">
      <table class="cases">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Status</th>
            <th scope="col">Priority</th>
            {owner ? <th scope="col">Owner</th> : null}
            <th scope="col">Swarm</th>
            <th scope="col">Latest change</th>
          </tr>
        </thead>
        <tbody>
          {cases.map((entry) => (
            <Row key={entry.case_id} entry={entry} me={me} owner={owner} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function swarmState(entry: CaseEntry): string {
  const { requests, experts, invited } = entry.swarm;
  const parts = [];
  if (requests) parts.push("hand raised");
  if (experts) parts.push(`${experts} expert${experts > 1 ? "s" : ""}`);
  if (invited) parts.push(`${invited} invited`);
  return parts.join(", ") || "—";
}

function Row({ entry, me, owner }: { entry: CaseEntry; me: string; owner?: boolean }) {
  const last = entry.latest;
  const who = last?.by === me ? "You" : (last?.by_name ?? (last?.by ? `agent ${last.by.slice(0, 8)}` : ""));
  return (
    <tr data-case={entry.case_id}>
      <td>
        <a href={`/cases/${entry.case_id}`} data-route>
          {entry.subject}
        </a>
        <div class="muted">{entry.customer}</div>
      </td>
      <td>
        <span class={`pill status-${entry.status}`}>{label(entry.status)}</span>
      </td>
      <td>
        <span class={`pill priority-${entry.priority}`}>{entry.priority}</span>
      </td>
      {owner ? <td>{entry.owner.id === me ? "You" : entry.owner.name || `agent ${entry.owner.id.slice(0, 8)}`}</td> : null}
      <td>{swarmState(entry)}</td>
      <td class="latest">
        {last ? (
          <>
            {who}: {words(last.type)}
            <div class="muted">{when(last.at)}</div>
          </>
        ) : (
          when(entry.opened_at)
        )}
      </td>
    </tr>
  );
}

/** Closed cases I own: settled, so read once when asked for (a reopened one is live again
 * and left out here). */
function ClosedCases({ live }: { live: CaseList | null }) {
  const [open, setOpen] = useState(false);
  const [closed, setClosed] = useState<CaseSummary[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!open || closed !== null) return;
    get<Page<CaseSummary>>("/api/cases?owner=me&status=closed&limit=100")
      .then((page) => setClosed(page.items))
      .catch((e: unknown) => setError(String(e)));
  }, [open, closed]);
  const shown = (closed ?? []).filter((c) => !live?.cases[c.case_id]);
  return (
    <details class="archive" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Closed cases I own</summary>
      {error ? <p class="problem">{error}</p> : null}
      {closed === null ? (
        open ? <p>Loading…</p> : null
      ) : shown.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="closed" aria-label="Closed cases I own">
          {shown.map((c) => (
            <li key={c.case_id} data-case={c.case_id}>
              <a href={`/cases/${c.case_id}`} data-route>
                {c.subject}
              </a>{" "}
              <span class="muted">
                {c.customer} · {when(c.updated_at)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

function OpenCase() {
  const cmd = useCommand();
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <p>
        <button type="button" onClick={() => setOpen(true)}>
          Open a case
        </button>
      </p>
    );
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const body = {
      customer: String(form.get("customer") ?? ""),
      subject: String(form.get("subject") ?? ""),
      description: String(form.get("description") ?? ""),
      priority: String(form.get("priority") ?? "normal"),
    };
    let id = "";
    if (await cmd.run(async () => {
      const accepted = await command("POST", "/api/cases", body);
      id = accepted.case_id;
      return accepted;
    })) {
      navigate(`/cases/${id}`);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="open-case-title" aria-describedby="open-case-problem">
      <h2 id="open-case-title">Open a case</h2>
      <Field label="Customer" id="open-customer">
        <input id="open-customer" name="customer" required autoComplete="organization" />
      </Field>
      <Field label="Subject" id="open-subject">
        <input id="open-subject" name="subject" required />
      </Field>
      <Field label="Description" id="open-description">
        <textarea id="open-description" name="description" rows={3} />
      </Field>
      <Field label="Priority" id="open-priority">
        <select id="open-priority" name="priority">
          {["low", "normal", "high", "urgent"].map((p) => (
            <option value={p} selected={p === "normal"}>
              {p}
            </option>
          ))}
        </select>
      </Field>
      <div class="actions">
        <button type="submit" disabled={cmd.busy}>
          Open
        </button>
        <button type="button" class="secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <ProblemNote id="open-case-problem" problem={cmd.problem} />
    </form>
  );
}
