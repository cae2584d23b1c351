// Supervisors: every case with filters (status, priority, text); transfer and reopen are
// in each case room, which supervisors may act in. The outcomes dashboard plugs in here.
import { useEffect, useState } from "preact/hooks";
import { get } from "../api";
import type { ScreenProps } from "../routes";
import { Field } from "../ui/command";
import { label, when } from "../ui/format";
import type { CaseSummary, Page } from "../views";

export function Supervisor(_props: ScreenProps) {
  const [status, setStatus] = useState("open");
  const [priority, setPriority] = useState("");
  const [text, setText] = useState("");
  const [cases, setCases] = useState<CaseSummary[] | null>(null);
  useEffect(() => {
    setCases(null);
    const query = status ? `&status=${status}` : "";
    get<Page<CaseSummary>>(`/api/cases?limit=200${query}`)
      .then((page) => setCases(page.items))
      .catch(() => setCases([]));
  }, [status]);
  const needle = text.trim().toLowerCase();
  const shown = (cases ?? []).filter(
    (c) =>
      (!priority || c.priority === priority) &&
      (!needle || `${c.subject} ${c.customer}`.toLowerCase().includes(needle)),
  );
  return (
    <section aria-labelledby="sup-title">
      <h1 id="sup-title">All cases</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <Field label="Status" id="f-status">
          <select id="f-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="open">open</option>
            <option value="resolved">resolved</option>
            <option value="closed">closed</option>
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
        <Field label="Search subject or customer" id="f-text">
          <input id="f-text" type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
      </form>
      {cases === null ? (
        <p>Loading…</p>
      ) : (
        <div class="table-wrap">
          <table class="cases">
            <caption>{shown.length} cases</caption>
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
      )}
    </section>
  );
}
