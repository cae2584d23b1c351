// Decisions taken on what the screen shows: the command carries `If-Match: <version the
// person decided on>`. When the case moved meanwhile the server answers 412 and changes
// nothing; the form then lists what changed since and asks to decide again.
import type { ComponentChildren } from "preact";
import { createContext } from "preact";
import { useContext, useState } from "preact/hooks";
import type { Accepted } from "../../api";
import { ProblemNote, useCommand } from "../../ui/command";
import { nameIn, when, words } from "../../ui/format";
import type { CaseView } from "../../views";

/** The room's current document, always the latest (a ref: reading it re-renders nothing). */
export const LatestView = createContext<{ current: CaseView | null }>({ current: null });

export interface DecisionProps {
  view: CaseView;
  /** A short name used for ids ("accept-<id>", "resolve", ...). */
  name: string;
  /** The command, given the version decided on. */
  send: (ifMatch: number) => Promise<Accepted>;
  /** Called after the server accepted. */
  onDone?: () => void;
  children: (props: { busy: boolean; describedBy: string }) => ComponentChildren;
  class?: string;
  label?: string;
}

/** A form whose submit is a decision on the version shown when the person began it
 * (the first focus inside the form), or else on the version shown at submit. */
export function Decision(props: DecisionProps) {
  const cmd = useCommand();
  // the room's latest document: the form may be memoised away from its updates
  const latest = useContext(LatestView);
  const view = latest.current ?? props.view;
  const [started, setStarted] = useState<number | null>(null);
  const basis = started ?? view.version;
  const problemId = `${props.name}-problem`;
  const stale = cmd.problem?.status === 412;
  const submit = async (event: Event) => {
    event.preventDefault();
    const decidedOn = started ?? (latest.current ?? props.view).version;
    if (await cmd.run(() => props.send(decidedOn))) {
      setStarted(null);
      props.onDone?.();
    }
  };
  const changes = view.timeline.filter((item) => item.version > basis);
  return (
    <form
      class={`decision ${props.class ?? ""}`}
      onSubmit={submit}
      aria-label={props.label}
      data-basis={basis}
      data-decision={props.name}
      onFocusIn={() => {
        if (started === null) setStarted((latest.current ?? props.view).version);
      }}
    >
      {props.children({ busy: cmd.busy, describedBy: problemId })}
      <ProblemNote id={problemId} problem={cmd.problem} />
      {stale ? (
        <div class="conflict" data-conflict>
          <p>
            The case changed since you looked (you decided on version {basis}; it is now version{" "}
            {view.version}). Nothing was changed. What happened since:
          </p>
          <ol>
            {changes.map((item) => (
              <li key={item.version}>
                v{item.version}: {nameIn(view, item.by)} — {words(item.type)}
                {item.text ? `: ${item.text}` : ""} <span class="muted">({when(item.at)})</span>
              </li>
            ))}
          </ol>
          <button
            type="button"
            onClick={() => {
              setStarted((latest.current ?? props.view).version);
              cmd.clear();
            }}
          >
            I have read this: decide again
          </button>
        </div>
      ) : null}
    </form>
  );
}
