// The inbox, live over /ws/inbox: invitations (open the room from the link, join, or
// decline with a reason), mentions, decisions on my proposals, and invitations to my cases
// declined or expired (with a link to the room, whose invite picker leads with the next
// suggestion). Newest first.
import { useState } from "preact/hooks";
import { command } from "../api";
import { useLive } from "../live";
import type { ScreenProps } from "../routes";
import { navigate } from "../router";
import { ProblemNote, useCommand } from "../ui/command";
import { when } from "../ui/format";
import type { Inbox, InboxItem } from "../views";

export function InboxScreen(_props: ScreenProps) {
  const inbox = useLive<Inbox>("/ws/inbox");
  const items = [...(inbox.view?.items ?? [])].reverse();
  return (
    <section aria-labelledby="inbox-title">
      <h1 id="inbox-title">Inbox</h1>
      <LiveStatus status={inbox.status} detail={inbox.detail} />
      {inbox.position === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p>
          Nothing here yet: invitations, mentions, decisions on your proposals and answers to your invitations
          arrive live.
        </p>
      ) : (
        <ul class="inbox" aria-label="Inbox items">
          {items.map((item) => (
            <InboxEntry key={`${item.kind}-${item.id}-${item.position}`} item={item} />
          ))}
        </ul>
      )}
    </section>
  );
}

export function LiveStatus({ status, detail }: { status: string; detail: string }) {
  const text =
    status === "live" ? "Live" : status === "refused" ? `Not available: ${detail}` : `Reconnecting… ${detail}`;
  return (
    <p class={`live-status live-${status}`} role="status" data-status={status}>
      {text}
    </p>
  );
}

function InboxEntry({ item }: { item: InboxItem }) {
  const href = `/cases/${item.case_id}`;
  return (
    <li class={`inbox-item kind-${item.kind}`} data-kind={item.kind} data-case={item.case_id}>
      <div>
        <strong>{headline(item)}</strong>{" "}
        <a href={href} data-route>
          {item.subject}
        </a>
      </div>
      {item.reason ? <div class="muted">“{item.reason}”</div> : null}
      {typeof item.text === "string" ? <div class="quote">{item.text}</div> : null}
      <div class="muted">{when(item.at)}</div>
      {item.kind === "invitation" && item.status === "pending" ? <Answer item={item} /> : null}
      {unanswered(item) ? (
        <div class="actions">
          <a href={href} data-route data-next="suggestions">
            See who can help next
          </a>
        </div>
      ) : null}
    </li>
  );
}

function unanswered(item: InboxItem): boolean {
  return item.kind === "invitation_declined" || item.kind === "invitation_expired";
}

function headline(item: InboxItem): string {
  if (item.kind === "invitation") return item.status === "pending" ? "Invited to" : `Invitation ${item.status}:`;
  if (item.kind === "invitation_declined") return "Your invitation was declined:";
  if (item.kind === "invitation_expired") return "Your invitation expired unanswered:";
  if (item.kind === "mention") return "Mentioned in";
  return `Your proposal was ${item.decision ?? "decided"}:`;
}

function Answer({ item }: { item: InboxItem }) {
  const cmd = useCommand();
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState("");
  const base = `/api/cases/${item.case_id}`;
  const problemId = `answer-${item.id}-problem`;
  const join = async () => {
    if (await cmd.run(() => command("POST", `${base}/participants`, {}))) navigate(`/cases/${item.case_id}`);
  };
  const decline = (event: Event) => {
    event.preventDefault();
    void cmd.run(() => command("POST", `${base}/invitations/decline`, { reason }));
  };
  return (
    <div class="actions" aria-describedby={problemId}>
      <button type="button" onClick={join} disabled={cmd.busy}>
        Join the swarm
      </button>
      {declining ? (
        <form onSubmit={decline} class="inline">
          <label for={`decline-${item.id}`}>Reason</label>
          <input id={`decline-${item.id}`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <button type="submit" disabled={cmd.busy}>
            Decline
          </button>
        </form>
      ) : (
        <button type="button" class="secondary" onClick={() => setDeclining(true)}>
          Decline…
        </button>
      )}
      <ProblemNote id={problemId} problem={cmd.problem} />
    </div>
  );
}
