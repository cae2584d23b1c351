// My cases: the cases I own (and those I help on), live: each open case's row follows
// its case socket, so status, priority, swarm state and the latest change update in place.
import { useEffect, useState } from "preact/hooks";
import { command, get } from "../api";
import { useLive } from "../live";
import type { ScreenProps } from "../routes";
import { navigate } from "../router";
import { Field, ProblemNote, useCommand } from "../ui/command";
import { label, nameIn, when, words } from "../ui/format";
import type { CaseSummary, CaseView, Page } from "../views";

/** Open cases followed live at most (one socket each); older rows show their list state. */
const LIVE_ROWS = 20;

export function MyCases({ me }: ScreenProps) {
  const [owned, setOwned] = useState<CaseSummary[] | null>(null);
  const [helping, setHelping] = useState<CaseSummary[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    get<Page<CaseSummary>>("/api/cases?owner=me&limit=100")
      .then((page) => setOwned(page.items))
      .catch((e: unknown) => setError(String(e)));
    get<Page<CaseSummary>>("/api/cases?participant=me&limit=100")
      .then((page) => setHelping(page.items.filter((c) => c.owner_id !== me.id)))
      .catch(() => undefined);
  }, [me.id]);
  return (
    <section aria-labelledby="my-cases-title">
      <h1 id="my-cases-title">My cases</h1>
      <OpenCase />
      {error ? <p class="problem">{error}</p> : null}
      {owned === null ? <p>Loading…</p> : <CaseTable cases={owned} caption="Cases I own" me={me.id} />}
      {helping.length > 0 ? <CaseTable cases={helping} caption="Cases I help on" me={me.id} /> : null}
    </section>
  );
}

function CaseTable({ cases, caption, me }: { cases: CaseSummary[]; caption: string; me: string }) {
  if (cases.length === 0) return <p>No cases yet. Open one above.</p>;
  let live = 0;
  return (
    <div class="table-wrap">
      <table class="cases">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Case</th>
            <th scope="col">Status</th>
            <th scope="col">Priority</th>
            <th scope="col">Swarm</th>
            <th scope="col">Latest change</th>
          </tr>
        </thead>
        <tbody>
          {cases.map((summary) => {
            const follow = summary.status !== "closed" && live++ < LIVE_ROWS;
            return follow ? (
              <LiveRow key={summary.case_id} summary={summary} me={me} />
            ) : (
              <Row key={summary.case_id} summary={summary} view={null} me={me} />
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function LiveRow({ summary, me }: { summary: CaseSummary; me: string }) {
  const live = useLive<CaseView>(`/ws/cases/${summary.case_id}`);
  return <Row summary={summary} view={live.view} me={me} />;
}

function swarmState(view: CaseView | null): string {
  if (!view) return "";
  const open = Object.values(view.swarm_requests).filter((r) => r.status === "open").length;
  const experts = Object.values(view.participants).filter((p) => p.role === "expert" && !p.left_at).length;
  const pending = Object.values(view.invitations).filter((i) => i.status === "pending").length;
  const parts = [];
  if (open) parts.push("hand raised");
  if (experts) parts.push(`${experts} expert${experts > 1 ? "s" : ""}`);
  if (pending) parts.push(`${pending} invited`);
  return parts.join(", ") || "—";
}

function Row({ summary, view, me }: { summary: CaseSummary; view: CaseView | null; me: string }) {
  const last = view?.timeline.at(-1);
  const status = view?.status ?? summary.status;
  const priority = view?.priority ?? summary.priority;
  return (
    <tr data-case={summary.case_id}>
      <td>
        <a href={`/cases/${summary.case_id}`} data-route>
          {view?.problem.subject ?? summary.subject}
        </a>
        <div class="muted">{summary.customer}</div>
      </td>
      <td>
        <span class={`pill status-${status}`}>{label(status)}</span>
      </td>
      <td>
        <span class={`pill priority-${priority}`}>{priority}</span>
      </td>
      <td>{swarmState(view)}</td>
      <td class="latest">
        {last ? (
          <>
            {last.by === me ? "You" : nameIn(view, last.by)}: {words(last.type)}
            <div class="muted">{when(last.at)}</div>
          </>
        ) : (
          when(summary.updated_at)
        )}
      </td>
    </tr>
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
