// What the owner (and, where the rules allow, a supervisor) does with the case: add to
// the briefing, raise a hand, change priority, hand off, resolve, close, reopen. Every
// decision carries If-Match (see decision.tsx).
import { useState } from "preact/hooks";
import { command } from "../../api";
import { Field, ProblemNote, useCommand } from "../../ui/command";
import { Decision } from "./decision";
import type { RoomProps } from "./room";
import { HandOff } from "./hand-off";

export function OwnerActions(props: RoomProps) {
  const { view, isOwner } = props;
  const open = view.status === "open";
  return (
    <section class="card actions-card" aria-labelledby="owner-actions-title">
      <h2 id="owner-actions-title">{isOwner ? "Your case" : "Supervise"}</h2>
      {isOwner && open ? <AddContext {...props} /> : null}
      {isOwner && open ? <RaiseHand {...props} /> : null}
      {open ? <Priority {...props} /> : null}
      {open ? <HandOff {...props} /> : null}
      {isOwner && open ? <Resolve {...props} /> : null}
      {isOwner && view.status !== "closed" ? <Close {...props} /> : null}
      {!open ? <Reopen {...props} /> : null}
    </section>
  );
}

function AddContext({ view }: RoomProps) {
  const cmd = useCommand();
  const [kind, setKind] = useState("symptom");
  const [text, setText] = useState("");
  const submit = async (event: Event) => {
    event.preventDefault();
    if (await cmd.run(() => command("POST", `/api/cases/${view.case_id}/context`, { kind, text }))) setText("");
  };
  return (
    <form onSubmit={submit} aria-labelledby="context-title">
      <h3 id="context-title">Add to the briefing</h3>
      <Field label="Kind" id="context-kind">
        <select id="context-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          <option value="symptom">symptom</option>
          <option value="environment">environment</option>
          <option value="step_tried">step tried</option>
          <option value="hypothesis">hypothesis</option>
        </select>
      </Field>
      <Field label="Text" id="context-text">
        <input id="context-text" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-describedby="context-problem" />
      </Field>
      <button type="submit" disabled={cmd.busy}>
        Add
      </button>
      <ProblemNote id="context-problem" problem={cmd.problem} />
    </form>
  );
}

function RaiseHand({ view }: RoomProps) {
  const cmd = useCommand();
  const [help, setHelp] = useState("");
  const [skills, setSkills] = useState("");
  const [urgency, setUrgency] = useState("normal");
  const submit = async (event: Event) => {
    event.preventDefault();
    const body = {
      help_needed: help,
      skills_wanted: skills.split(",").map((s) => s.trim()).filter(Boolean),
      urgency,
    };
    if (await cmd.run(() => command("POST", `/api/cases/${view.case_id}/swarm`, body))) {
      setHelp("");
      setSkills("");
    }
  };
  return (
    <form onSubmit={submit} aria-labelledby="raise-title">
      <h3 id="raise-title">Raise a hand</h3>
      <Field label="Help needed" id="raise-help">
        <input id="raise-help" value={help} onInput={(e) => setHelp(e.currentTarget.value)} aria-describedby="raise-problem" />
      </Field>
      <Field label="Skills wanted (comma-separated)" id="raise-skills">
        <input id="raise-skills" value={skills} onInput={(e) => setSkills(e.currentTarget.value)} />
      </Field>
      <Field label="Urgency" id="raise-urgency">
        <select id="raise-urgency" value={urgency} onChange={(e) => setUrgency(e.currentTarget.value)}>
          {["low", "normal", "high", "critical"].map((u) => (
            <option value={u}>{u}</option>
          ))}
        </select>
      </Field>
      <button type="submit" disabled={cmd.busy}>
        Ask the swarm for help
      </button>
      <ProblemNote id="raise-problem" problem={cmd.problem} />
    </form>
  );
}

function Priority({ view }: RoomProps) {
  const [priority, setPriority] = useState(view.priority);
  const [reason, setReason] = useState("");
  return (
    <Decision
      view={view}
      name="priority"
      label="Change the priority"
      send={(ifMatch) => command("POST", `/api/cases/${view.case_id}/priority`, { priority, reason }, { ifMatch })}
      onDone={() => setReason("")}
    >
      {({ busy, describedBy }) => (
        <>
          <h3>Priority</h3>
          <Field label="New priority" id="priority-value">
            <select id="priority-value" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
              {["low", "normal", "high", "urgent"].map((p) => (
                <option value={p}>{p}</option>
              ))}
            </select>
          </Field>
          <Field label="Why" id="priority-reason">
            <input id="priority-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={describedBy} />
          </Field>
          <button type="submit" disabled={busy}>
            Change priority
          </button>
        </>
      )}
    </Decision>
  );
}

function Resolve({ view }: RoomProps) {
  const accepted = view.proposals.find((p) => p.status === "accepted");
  const [summary, setSummary] = useState("");
  return (
    <Decision
      view={view}
      name="resolve"
      label="Resolve the case"
      send={(ifMatch) =>
        command("POST", `/api/cases/${view.case_id}/resolve`, { summary, proposal_id: accepted?.id ?? null }, { ifMatch })
      }
    >
      {({ busy, describedBy }) => (
        <>
          <h3>Resolve</h3>
          <p class="muted">{accepted ? `Cites the accepted proposal: “${accepted.summary}”.` : "No accepted proposal to cite."}</p>
          <Field label="Resolution summary" id="resolve-summary">
            <input id="resolve-summary" value={summary} onInput={(e) => setSummary(e.currentTarget.value)} aria-describedby={describedBy} />
          </Field>
          <button type="submit" disabled={busy}>
            Resolve
          </button>
        </>
      )}
    </Decision>
  );
}

function Close({ view }: RoomProps) {
  const [note, setNote] = useState("");
  return (
    <Decision
      view={view}
      name="close"
      label="Close the case"
      send={(ifMatch) => command("POST", `/api/cases/${view.case_id}/close`, { note }, { ifMatch })}
    >
      {({ busy, describedBy }) => (
        <>
          <h3>Close</h3>
          <Field label="Closing note (optional)" id="close-note">
            <input id="close-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} aria-describedby={describedBy} />
          </Field>
          <button type="submit" class="secondary" disabled={busy}>
            Close the case
          </button>
        </>
      )}
    </Decision>
  );
}

function Reopen({ view }: RoomProps) {
  const [reason, setReason] = useState("");
  return (
    <Decision
      view={view}
      name="reopen"
      label="Reopen the case"
      send={(ifMatch) => command("POST", `/api/cases/${view.case_id}/reopen`, { reason }, { ifMatch })}
    >
      {({ busy, describedBy }) => (
        <>
          <h3>Reopen</h3>
          <Field label="Why reopen" id="reopen-reason">
            <input id="reopen-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={describedBy} />
          </Field>
          <button type="submit" disabled={busy}>
            Reopen
          </button>
        </>
      )}
    </Decision>
  );
}
