// What someone other than the owner does here: join (by invitation or the open request
// for help), decline an invitation with a reason, leave the swarm.
import { useState } from "preact/hooks";
import { command } from "../../api";
import { Field, ProblemNote, useCommand } from "../../ui/command";
import type { RoomProps } from "./room";

export function ExpertActions(props: RoomProps) {
  const { view, me, isMember } = props;
  const cmd = useCommand();
  const [reason, setReason] = useState("");
  const [note, setNote] = useState("");
  const invited = Object.values(view.invitations).some((i) => i.expert_id === me.id && i.status === "pending");
  const handRaised = Object.values(view.swarm_requests).some((r) => r.status === "open");
  const open = view.status === "open";
  if (!open && !isMember) return null;
  const base = `/api/cases/${view.case_id}`;
  return (
    <section class="card actions-card" aria-labelledby="expert-actions-title">
      <h2 id="expert-actions-title">{isMember ? "You are in this swarm" : "Join this swarm"}</h2>
      {!isMember && open && (invited || handRaised) ? (
        <button type="button" onClick={() => void cmd.run(() => command("POST", `${base}/participants`, {}))} disabled={cmd.busy} aria-describedby="expert-problem">
          {invited ? "Accept the invitation and join" : "Offer help (join)"}
        </button>
      ) : null}
      {invited && !isMember ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void cmd.run(() => command("POST", `${base}/invitations/decline`, { reason }));
          }}
        >
          <Field label="Reason to decline" id="decline-reason">
            <input id="decline-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby="expert-problem" />
          </Field>
          <button type="submit" class="secondary" disabled={cmd.busy} aria-describedby="expert-problem">
            Decline the invitation
          </button>
        </form>
      ) : null}
      {isMember ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void cmd.run(() => command("DELETE", `${base}/participants/me?note=${encodeURIComponent(note)}`));
          }}
        >
          <Field label="Parting note (optional)" id="leave-note">
            <input id="leave-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} aria-describedby="expert-problem" />
          </Field>
          <button type="submit" class="secondary" disabled={cmd.busy} aria-describedby="expert-problem">
            Leave the swarm
          </button>
        </form>
      ) : null}
      <ProblemNote id="expert-problem" problem={cmd.problem} />
    </section>
  );
}
