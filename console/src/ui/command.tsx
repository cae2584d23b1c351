// Running a command from a control: busy state, the server's problem detail shown next
// to the control (never a silent failure), and a stale decision (412) turned into
// "this changed since you looked" with a way to decide again.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, type Accepted, type Problem } from "../api";

export interface CommandState {
  busy: boolean;
  problem: Problem | null;
  done: Accepted | null;
  /** Run `action`; resolves true when the server accepted it. */
  run(action: () => Promise<Accepted>): Promise<boolean>;
  clear(): void;
}

export function useCommand(): CommandState {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [done, setDone] = useState<Accepted | null>(null);
  return {
    busy,
    problem,
    done,
    async run(action) {
      setBusy(true);
      setProblem(null);
      try {
        setDone(await action());
        return true;
      } catch (error) {
        setProblem(
          error instanceof ApiError
            ? error.problem
            : { type: "about:blank", title: "Error", status: 0, detail: String(error) },
        );
        return false;
      } finally {
        setBusy(false);
      }
    },
    clear() {
      setProblem(null);
    },
  };
}

/** The server's problem detail for a control: announced, and tied to it by `id`. */
export function ProblemNote({ id, problem }: { id: string; problem: Problem | null }) {
  if (problem === null) return <span id={id} hidden />;
  const fields = problem.errors?.map((e) => `${e.field}: ${e.message}`).join("; ");
  return (
    <p id={id} class="problem" role="alert" data-status={problem.status}>
      <strong>{problem.title}</strong>
      {problem.status ? ` (${problem.status})` : ""}
      {problem.detail ? `: ${problem.detail}` : ""}
      {fields && !problem.detail?.includes(fields) ? ` — ${fields}` : ""}
    </p>
  );
}

/** A labelled field (label, control, hint) */
export function Field(props: { label: string; id: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? (
        <small id={`${props.id}-hint`} class="hint">
          {props.hint}
        </small>
      ) : null}
    </div>
  );
}
