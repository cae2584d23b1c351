// Hand the case to another agent with the mandatory note (owner or supervisor).
import { useEffect, useState } from "preact/hooks";
import { command, get } from "../../api";
import { Field } from "../../ui/command";
import type { Agent, Page } from "../../views";
import { Decision } from "./decision";
import { agentLabel } from "./people";
import type { RoomProps } from "./room";

export function HandOff({ view }: RoomProps) {
  const [agents, setAgents] = useState<Agent[]>([]);
  const [to, setTo] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => {
    get<Page<Agent, string>>("/api/agents?limit=500")
      .then((page) => setAgents(page.items.filter((a) => a.agent_id !== view.owner.id)))
      .catch(() => setAgents([]));
  }, [view.owner.id]);
  const target = agents.find((a) => a.agent_id === to);
  return (
    <Decision
      view={view}
      name="handoff"
      label="Hand the case off"
      send={(ifMatch) =>
        command(
          "POST",
          `/api/cases/${view.case_id}/owner`,
          { to_owner_id: to, to_owner_name: target?.name ?? "", handoff_note: note },
          { ifMatch },
        )
      }
      onDone={() => setNote("")}
    >
      {({ busy, describedBy }) => (
        <>
          <h3>Hand off</h3>
          <Field label="New owner" id="handoff-to">
            <select id="handoff-to" value={to} onChange={(e) => setTo(e.currentTarget.value)} aria-describedby={describedBy}>
              <option value="">Choose…</option>
              {agents.map((a) => (
                <option key={a.agent_id} value={a.agent_id}>
                  {agentLabel(a)}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Hand-off note (required)" id="handoff-note">
            <textarea
              id="handoff-note"
              rows={2}
              value={note}
              onInput={(e) => setNote(e.currentTarget.value)}
              aria-describedby={describedBy}
            />
          </Field>
          <button type="submit" disabled={busy}>
            Hand off
          </button>
        </>
      )}
    </Decision>
  );
}
