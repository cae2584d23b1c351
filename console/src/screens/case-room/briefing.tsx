// The briefing: what anyone joining needs, in reading order (problem, context by kind,
// customer messages, the open requests for help). For a member who acknowledged an
// earlier version, whatever is newer is marked "new", and one button acknowledges it all.
import { command } from "../../api";
import { useEarlier } from "../../ui/earlier";
import { ProblemNote, useCommand } from "../../ui/command";
import { label, nameIn, when } from "../../ui/format";
import type { Entry, TimelineItem } from "../../views";
import type { RoomProps } from "./room";

const KINDS: [string, string][] = [
  ["symptom", "Symptoms"],
  ["environment", "Environment"],
  ["step_tried", "Steps tried"],
  ["hypothesis", "Hypotheses"],
];

export function Briefing(props: RoomProps) {
  const { view, acked } = props;
  const highlight = props.current && props.isMember && !props.isOwner;
  const isNew = (version: number) => highlight && version > acked;
  return (
    <section class="card briefing" aria-labelledby="briefing-title">
      <h2 id="briefing-title">Briefing</h2>
      <p class="problem-statement">{view.problem.description || <span class="muted">No description.</span>}</p>
      <p class="muted">
        Customer: {view.customer.name}
        {view.customer.contact ? ` (${view.customer.contact})` : ""}
        {view.product_area ? ` · area: ${view.product_area}` : ""}
        {view.channel ? ` · via ${view.channel}` : ""}
      </p>
      {KINDS.map(([kind, title]) => (
        <EntryList key={kind} kind={kind} title={title} entries={view.context[kind] ?? []} isNew={isNew} {...props} />
      ))}
      <Messages {...props} isNew={isNew} />
      <HandsRaised {...props} isNew={isNew} />
    </section>
  );
}

function Messages(props: RoomProps & { isNew: (v: number) => boolean }) {
  const { view, isNew } = props;
  const total = view.totals?.customer_messages ?? view.customer_messages.length;
  const { all: messages, more } = useEarlier(view.case_id, "customer-messages", view.customer_messages, total, props.current);
  return (
    <>
      <h3>Customer messages</h3>
      {more}
      {messages.length === 0 ? (
        <p class="muted">None logged.</p>
      ) : (
        <ul class="entries">
          {messages.map((m) => (
            <li key={m.id} class={isNew(m.version) ? "new" : ""}>
              {isNew(m.version) ? <NewMark /> : null}
              <span class="muted">{m.direction === "inbound" ? "From the customer" : "To the customer"}:</span>{" "}
              {m.text} <span class="muted">({when(m.at)})</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export const NewMark = () => <strong class="new-mark">New</strong>;

/** Timeline items after `acked` that tell something (acknowledgements do not). */
export const newSince = (timeline: TimelineItem[], acked: number): TimelineItem[] =>
  timeline.filter((item) => item.version > acked && item.type !== "BriefingAcknowledged");

function EntryList(props: RoomProps & { kind: string; title: string; entries: Entry[]; isNew: (v: number) => boolean }) {
  const total = props.view.totals?.context[props.kind] ?? props.entries.length;
  const { all: shown, more } = useEarlier(props.view.case_id, `context/${props.kind}`, props.entries, total, props.current);
  if (shown.length === 0) return null;
  return (
    <>
      <h3>{props.title}</h3>
      {more}
      <ul class="entries">
        {shown.map((entry) => (
          <li key={entry.id} class={props.isNew(entry.version) ? "new" : ""}>
            {props.isNew(entry.version) ? <NewMark /> : null} {entry.text}{" "}
            <span class="muted">
              ({nameIn(props.view, entry.author_id)}, {when(entry.at)})
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

function HandsRaised(props: RoomProps & { isNew: (v: number) => boolean }) {
  const requests = Object.values(props.view.swarm_requests);
  if (requests.length === 0) return null;
  return (
    <>
      <h3>Requests for help</h3>
      <ul class="entries">
        {requests.map((r) => (
          <li key={r.id} class={props.isNew(r.version) ? "new" : ""}>
            {props.isNew(r.version) ? <NewMark /> : null} {r.help_needed}{" "}
            <span class="muted">
              (urgency {r.urgency}
              {r.skills_wanted.length ? `, skills ${r.skills_wanted.join(", ")}` : ""}, {label(r.status)})
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** For a member who is not the owner: how much is new, and one button to acknowledge it. */
export function Acknowledge(props: RoomProps) {
  const cmd = useCommand();
  const { view, acked } = props;
  const newCount = newSince(view.timeline, acked).length;
  const upToDate = newCount === 0 && acked > 0;
  const ack = () =>
    void cmd.run(() =>
      command("POST", `/api/cases/${view.case_id}/briefing-acks`, { version: view.version }),
    );
  return (
    <div class="ack" data-acked={acked}>
      {upToDate ? (
        <p role="status">You have read everything up to version {acked}.</p>
      ) : (
        <p role="status">
          {acked === 0
            ? "You have not acknowledged this briefing yet."
            : `${newCount} change${newCount === 1 ? "" : "s"} since you acknowledged version ${acked} (marked New).`}
        </p>
      )}
      {upToDate ? null : (
        <button type="button" onClick={ack} disabled={cmd.busy} aria-describedby="ack-problem">
          Acknowledge the briefing (version {view.version})
        </button>
      )}
      <ProblemNote id="ack-problem" problem={cmd.problem} />
    </div>
  );
}
