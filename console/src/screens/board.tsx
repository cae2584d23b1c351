// The swarm board: open requests for help on open cases, live over `/ws/swarms` (a hand
// raised anywhere appears, one answered or resolved leaves); offering help joins the swarm.
import { command } from "../api";
import { useLive } from "../live";
import type { ScreenProps } from "../routes";
import { navigate } from "../router";
import { ProblemNote, useCommand } from "../ui/command";
import { when } from "../ui/format";
import type { BoardItem, BoardList } from "../views";

const URGENCY_RANK: Record<string, number> = { critical: 2, high: 1 };

/** The board's order (GET /api/swarms): urgency raised by time pressure, then newest. */
function ordered(list: BoardList | null): BoardItem[] {
  return Object.values(list?.requests ?? {}).sort(
    (a, b) =>
      (URGENCY_RANK[b.swarm_urgency ?? ""] ?? 0) - (URGENCY_RANK[a.swarm_urgency ?? ""] ?? 0) ||
      b.at.localeCompare(a.at) ||
      a.id.localeCompare(b.id),
  );
}

export function Board(_props: ScreenProps) {
  const live = useLive<BoardList>("/ws/swarms");
  const items = live.position === null ? null : ordered(live.view);
  return (
    <section aria-labelledby="board-title">
      <h1 id="board-title">Swarm board</h1>
      {live.status === "refused" ? <p class="problem">{live.detail}</p> : null}
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p>No open requests for help right now.</p>
      ) : (
        <ul class="board" aria-label="Open requests for help">
          {items.map((item) => (
            <Request key={item.id} item={item} />
          ))}
        </ul>
      )}
    </section>
  );
}

function Request({ item }: { item: BoardItem }) {
  const cmd = useCommand();
  const problemId = `offer-${item.id}-problem`;
  const offer = async () => {
    if (await cmd.run(() => command("POST", `/api/cases/${item.case_id}/participants`, {}))) {
      navigate(`/cases/${item.case_id}`);
    }
  };
  return (
    <li class="card request" data-case={item.case_id}>
      <h2>
        <a href={`/cases/${item.case_id}`} data-route>
          {item.subject}
        </a>
      </h2>
      <p>{item.help_needed}</p>
      <p class="muted">
        Priority {item.priority} · urgency {item.urgency} · {item.participants} on the case
        {item.skills_wanted.length ? ` · skills: ${item.skills_wanted.join(", ")}` : ""} · {when(item.at)}
      </p>
      <button type="button" onClick={offer} disabled={cmd.busy} aria-describedby={problemId}>
        Offer help
      </button>
      <ProblemNote id={problemId} problem={cmd.problem} />
    </li>
  );
}
