// The swarm board: open requests for help on open cases; offering help joins the swarm.
// There is no board socket: the board loads when shown and on "Refresh", and again when
// my inbox changes (the socket this page does have).
import { useEffect, useState } from "preact/hooks";
import { command, get } from "../api";
import type { ScreenProps } from "../routes";
import { navigate } from "../router";
import { ProblemNote, useCommand } from "../ui/command";
import { when } from "../ui/format";
import type { Page } from "../views";

/** One open request (projections/rows.py `board_rows`). */
interface BoardItem {
  id: string;
  case_id: string;
  subject: string;
  priority: string;
  participants: number;
  help_needed: string;
  skills_wanted: string[];
  urgency: string;
  at: string;
  [member: string]: unknown;
}

export function Board(_props: ScreenProps) {
  const [items, setItems] = useState<BoardItem[] | null>(null);
  const [error, setError] = useState("");
  const load = () =>
    get<Page<BoardItem>>("/api/swarms?limit=100")
      .then((page) => {
        setItems(page.items);
        setError("");
      })
      .catch((e: unknown) => setError(String(e)));
  useEffect(() => {
    void load();
  }, []);
  return (
    <section aria-labelledby="board-title">
      <h1 id="board-title">Swarm board</h1>
      <p>
        <button type="button" class="secondary" onClick={() => void load()}>
          Refresh
        </button>
      </p>
      {error ? <p class="problem">{error}</p> : null}
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
