// Proposed resolutions with the insights they cite; the owner accepts or rejects (with a
// reason) each open one as a decision on the version shown (If-Match); members propose.
import { useState } from "preact/hooks";
import { command } from "../../api";
import { Field, ProblemNote, useCommand } from "../../ui/command";
import { label, nameIn, when } from "../../ui/format";
import type { Proposal } from "../../views";
import { NewMark } from "./briefing";
import { useEarlier } from "../../ui/earlier";
import { Decision } from "./decision";
import { CITABLE } from "./insights";
import type { RoomProps } from "./room";

export function Proposals(props: RoomProps) {
  const { view } = props;
  const { all: proposals, more } = useEarlier(view.case_id, "proposals", view.proposals, view.totals?.proposals ?? view.proposals.length, props.current);
  const canPropose = props.current && view.status === "open" && (props.isMember || props.isOwner);
  return (
    <section class="card proposals" aria-labelledby="proposals-title">
      <h2 id="proposals-title">Proposals</h2>
      {proposals.length === 0 ? <p class="muted">No proposals yet.</p> : null}
      {more}
      <ul class="entries">
        {proposals.map((p) => (
          <ProposalItem key={p.id} proposal={p} {...props} />
        ))}
      </ul>
      {canPropose ? <Propose {...props} /> : null}
    </section>
  );
}

function ProposalItem(props: RoomProps & { proposal: Proposal }) {
  const { proposal: p, view } = props;
  const isNew = props.current && props.isMember && !props.isOwner && p.version > props.acked;
  const decide = props.current && props.isOwner && p.status === "open" && view.status === "open";
  return (
    <li class={`proposal ${isNew ? "new" : ""}`} data-proposal={p.id} data-status={p.status}>
      {isNew ? <NewMark /> : null} <strong>{p.summary}</strong>{" "}
      <span class={`pill proposal-${p.status}`}>{label(p.status)}</span>
      <span class="muted">
        {" "}
        ({nameIn(view, p.author_id)}, {when(p.at)})
      </span>
      {p.steps.length ? (
        <ol class="steps">
          {p.steps.map((step) => (
            <li>{step}</li>
          ))}
        </ol>
      ) : null}
      {p.cited_insights.length ? (
        <div class="cites">
          Cites:
          <ul>
            {p.cited_insights.map((i) => (
              <li key={i.id}>
                <a href={`#insight-${i.id}`}>
                  {i.kind}: {i.text}
                </a>{" "}
                <span class="muted">({nameIn(view, i.author_id)})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {p.reason ? <p class="muted">Reason: {p.reason}</p> : null}
      {decide ? <DecideProposal {...props} /> : null}
    </li>
  );
}

function DecideProposal(props: RoomProps & { proposal: Proposal }) {
  const { proposal: p, view } = props;
  const [reason, setReason] = useState("");
  const base = `/api/cases/${view.case_id}/proposals/${p.id}`;
  return (
    <div class="decide">
      <Decision
        view={view}
        name={`accept-${p.id}`}
        label="Accept this proposal"
        send={(ifMatch) => command("POST", `${base}/accept`, undefined, { ifMatch })}
      >
        {({ busy, describedBy }) => (
          <button type="submit" disabled={busy} aria-describedby={describedBy}>
            Accept
          </button>
        )}
      </Decision>
      <Decision
        view={view}
        name={`reject-${p.id}`}
        label="Reject this proposal"
        send={(ifMatch) => command("POST", `${base}/reject`, { reason }, { ifMatch })}
        onDone={() => setReason("")}
      >
        {({ busy, describedBy }) => (
          <div class="inline">
            <label for={`reject-reason-${p.id}`}>Reason to reject</label>
            <input
              id={`reject-reason-${p.id}`}
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
              aria-describedby={describedBy}
            />
            <button type="submit" class="secondary" disabled={busy}>
              Reject
            </button>
          </div>
        )}
      </Decision>
    </div>
  );
}

function Propose({ view }: RoomProps) {
  const cmd = useCommand();
  const [summary, setSummary] = useState("");
  const [steps, setSteps] = useState("");
  const [cites, setCites] = useState<string[]>([]);
  const insights = view.insights.slice(-CITABLE);
  const submit = async (event: Event) => {
    event.preventDefault();
    const body = {
      summary,
      steps: steps.split("\n").map((s) => s.trim()).filter(Boolean),
      cites,
    };
    if (await cmd.run(() => command("POST", `/api/cases/${view.case_id}/proposals`, body))) {
      setSummary("");
      setSteps("");
      setCites([]);
    }
  };
  return (
    <form class="propose" onSubmit={submit} aria-labelledby="propose-title">
      <h3 id="propose-title">Propose a resolution</h3>
      <Field label="Summary" id="propose-summary">
        <input id="propose-summary" value={summary} onInput={(e) => setSummary(e.currentTarget.value)} aria-describedby="propose-problem" />
      </Field>
      <Field label="Steps (one per line)" id="propose-steps">
        <textarea id="propose-steps" rows={3} value={steps} onInput={(e) => setSteps(e.currentTarget.value)} />
      </Field>
      {insights.length ? (
        <fieldset>
          <legend>Cite insights</legend>
          {insights.map((i) => (
            <label class="check" key={i.id}>
              <input
                type="checkbox"
                checked={cites.includes(i.id)}
                onChange={() => setCites(cites.includes(i.id) ? cites.filter((x) => x !== i.id) : [...cites, i.id])}
              />{" "}
              {i.kind}: {i.text.slice(0, 60)}
            </label>
          ))}
        </fieldset>
      ) : null}
      <button type="submit" disabled={cmd.busy}>
        Propose
      </button>
      <ProblemNote id="propose-problem" problem={cmd.problem} />
    </form>
  );
}
