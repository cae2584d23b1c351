// Who is on the case: the owner and experts (with who is in the room right now), the
// invitations, and for the owner an invite picker over the agents' profiles, led by the
// suggested experts with why (the factors that weigh most in their score).
import { useEffect, useState } from "preact/hooks";
import { command, get } from "../../api";
import { Field, ProblemNote, useCommand } from "../../ui/command";
import { label, when } from "../../ui/format";
import type { Agent, Page, Suggestion, Suggestions } from "../../views";
import type { RoomProps } from "./room";

/** An agent in a picker: the name, and the sign-in subject when it says more. */
export const agentLabel = (a: Agent): string =>
  a.name && a.name !== a.subject ? `${a.name} (${a.subject})` : a.subject;

export function People(props: RoomProps) {
  const { view, present } = props;
  const people = Object.values(view.participants);
  const current = people.filter((p) => p.left_at === null);
  const gone = people.filter((p) => p.left_at !== null);
  const invitations = Object.values(view.invitations);
  return (
    <section class="card people" aria-labelledby="people-title">
      <h2 id="people-title">People</h2>
      <ul class="people-list" aria-label="On the case">
        {current.map((p) => {
          const here = present?.includes(p.id) ?? false;
          return (
            <li key={p.id} data-person={p.id} data-present={here ? "yes" : "no"}>
              <span class={`presence ${here ? "here" : "away"}`} aria-hidden="true" />
              {p.name || p.id.slice(0, 8)} <span class="muted">({p.role})</span>
              {present ? <span class="visually-hidden">{here ? ", in the room now" : ", not in the room"}</span> : null}
              {here ? <span class="here-label" aria-hidden="true"> · here</span> : null}
            </li>
          );
        })}
      </ul>
      {gone.length ? (
        <p class="muted">Left: {gone.map((p) => `${p.name}${p.note ? ` (“${p.note}”)` : ""}`).join(", ")}</p>
      ) : null}
      {invitations.length ? (
        <>
          <h3>Invitations</h3>
          <ul class="entries">
            {invitations.map((i) => (
              <li key={i.id} data-invitation={i.expert_id}>
                {i.expert_name || i.expert_id.slice(0, 8)}: {label(i.status)}
                {i.decline_reason ? ` (“${i.decline_reason}”)` : ""} <span class="muted">{when(i.at)}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {props.current && props.isOwner && view.status === "open" ? <Invite {...props} /> : null}
    </section>
  );
}

function Invite({ view }: RoomProps) {
  const cmd = useCommand();
  const [agents, setAgents] = useState<Agent[]>([]);
  const [expert, setExpert] = useState("");
  const [reason, setReason] = useState("");
  const [suggested, setSuggested] = useState<Suggestions | null>(null);
  useEffect(() => {
    get<Page<Agent, string>>("/api/agents?limit=500")
      .then((page) => setAgents(page.items))
      .catch(() => setAgents([]));
  }, []);
  useEffect(() => {
    get<Suggestions>(`/api/cases/${view.case_id}/suggestions?limit=5&min_position=${view.position}`)
      .then(setSuggested)
      .catch(() => setSuggested(null));
  }, [view.case_id, view.position]);
  const pick = (s: Suggestion) => {
    setExpert(s.agent_id);
    setReason(`Suggested: ${why(s)}`);
  };
  const taken = new Set([
    ...Object.values(view.participants).filter((p) => p.left_at === null).map((p) => p.id),
    ...Object.values(view.invitations).filter((i) => i.status === "pending").map((i) => i.expert_id),
  ]);
  const choices = agents.filter((a) => !taken.has(a.agent_id));
  const submit = async (event: Event) => {
    event.preventDefault();
    const agent = agents.find((a) => a.agent_id === expert);
    const ok = await cmd.run(() =>
      command("POST", `/api/cases/${view.case_id}/invitations`, {
        expert_id: expert,
        expert_name: agent?.name ?? "",
        reason,
      }),
    );
    if (ok) {
      setExpert("");
      setReason("");
    }
  };
  return (
    <form class="invite" onSubmit={submit} aria-labelledby="invite-title">
      <h3 id="invite-title">Invite an expert</h3>
      {suggested && suggested.suggestions.length ? (
        <div class="suggestions">
          <p class="muted">
            Suggested{suggested.wanted.length ? ` for ${suggested.wanted.join(", ")}` : ""}
            {suggested.cover.agent_ids.length > 1 ? ` (together, ${suggested.cover.agent_ids.length} cover every skill)` : ""}
          </p>
          <ol aria-label="Suggested experts">
            {suggested.suggestions.map((s) => (
              <li key={s.agent_id} data-suggestion={s.agent_id}>
                <button type="button" class="link" onClick={() => pick(s)}>
                  {s.name}
                </button>{" "}
                <span class="muted">
                  {s.score.toFixed(2)}: {why(s)}
                </span>
              </li>
            ))}
          </ol>
        </div>
      ) : null}
      <Field label="Expert" id="invite-expert">
        <select
          id="invite-expert"
          value={expert}
          onChange={(e) => setExpert(e.currentTarget.value)}
          aria-describedby="invite-problem"
        >
          <option value="">Choose…</option>
          {choices.map((a) => (
            <option key={a.agent_id} value={a.agent_id}>
              {agentLabel(a)}
              {Object.keys(a.skills).length ? ` — ${Object.keys(a.skills).join(", ")}` : ""}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Why them" id="invite-reason">
        <input id="invite-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </Field>
      <button type="submit" disabled={cmd.busy}>
        Invite
      </button>
      <ProblemNote id="invite-problem" problem={cmd.problem} />
    </form>
  );
}

// The three factors that add most to a suggestion's score, as "skills 3.6, load 1.0".
function why(s: Suggestion): string {
  return Object.entries(s.factors)
    .filter(([, f]) => f.contribution > 0)
    .sort((a, b) => b[1].contribution - a[1].contribution)
    .slice(0, 3)
    .map(([name, f]) => `${name.replace("_", " ")} ${f.contribution.toFixed(1)}`)
    .join(", ");
}
