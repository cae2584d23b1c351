// Insights: what the swarm found (with what each cites and whom it mentions), and for
// members a form to post one (kind, text, cite earlier insights, mention people).
import { useState } from "preact/hooks";
import { command } from "../../api";
import { Field, ProblemNote, useCommand } from "../../ui/command";
import { nameIn, when } from "../../ui/format";
import type { Insight } from "../../views";
import { NewMark } from "./briefing";
import type { RoomProps } from "./room";

const KINDS = ["finding", "question", "answer", "hypothesis"];

export function Insights(props: RoomProps) {
  const { view } = props;
  const insights = Object.values(view.insights).sort((a, b) => a.version - b.version);
  const highlight = props.current && props.isMember && !props.isOwner;
  const canPost = props.current && view.status === "open" && (props.isMember || props.isOwner);
  return (
    <section class="card insights" aria-labelledby="insights-title">
      <h2 id="insights-title">Insights</h2>
      {insights.length === 0 ? <p class="muted">No insights yet.</p> : null}
      <ul class="entries">
        {insights.map((insight) => (
          <li key={insight.id} id={`insight-${insight.id}`} data-insight={insight.id} class={highlight && insight.version > props.acked ? "new" : ""}>
            {highlight && insight.version > props.acked ? <NewMark /> : null} <strong>{insight.kind}</strong>{" "}
            {insight.text}{" "}
            <span class="muted">
              ({nameIn(view, insight.author_id)}, {when(insight.at)})
            </span>
            <Refs insight={insight} {...props} />
          </li>
        ))}
      </ul>
      {canPost ? <PostInsight {...props} insights={insights} /> : null}
    </section>
  );
}

function Refs({ insight, view }: RoomProps & { insight: Insight }) {
  if (!insight.refers_to.length && !insight.mentions.length) return null;
  return (
    <div class="refs muted">
      {insight.refers_to.length ? (
        <span>
          cites{" "}
          {insight.refers_to.map((id, i) => (
            <>
              {i ? ", " : ""}
              <a href={`#insight-${id}`}>“{(view.insights.find((i) => i.id === id)?.text ?? id.slice(0, 8)).slice(0, 40)}”</a>
            </>
          ))}
        </span>
      ) : null}
      {insight.mentions.length ? <span> · mentions {insight.mentions.map((id) => nameIn(view, id)).join(", ")}</span> : null}
    </div>
  );
}

function PostInsight(props: RoomProps & { insights: Insight[] }) {
  const { view } = props;
  const cmd = useCommand();
  const [kind, setKind] = useState("finding");
  const [text, setText] = useState("");
  const [cites, setCites] = useState<string[]>([]);
  const [mentions, setMentions] = useState<string[]>([]);
  const people = Object.values(view.participants).filter((p) => p.left_at === null && p.id !== props.me.id);
  const toggle = (list: string[], id: string) => (list.includes(id) ? list.filter((x) => x !== id) : [...list, id]);
  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await cmd.run(() =>
      command("POST", `/api/cases/${view.case_id}/insights`, { kind, text, refers_to: cites, mentions }),
    );
    if (ok) {
      setText("");
      setCites([]);
      setMentions([]);
    }
  };
  return (
    <form class="post-insight" onSubmit={submit} aria-labelledby="post-insight-title">
      <h3 id="post-insight-title">Post an insight</h3>
      <Field label="Kind" id="insight-kind">
        <select id="insight-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
          {KINDS.map((k) => (
            <option value={k}>{k}</option>
          ))}
        </select>
      </Field>
      <Field label="Insight" id="insight-text">
        <textarea
          id="insight-text"
          rows={3}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          aria-describedby="insight-problem"
        />
      </Field>
      {props.insights.length ? (
        <fieldset>
          <legend>Cite earlier insights</legend>
          {props.insights.map((i) => (
            <label class="check" key={i.id}>
              <input type="checkbox" checked={cites.includes(i.id)} onChange={() => setCites(toggle(cites, i.id))} />{" "}
              {i.kind}: {i.text.slice(0, 60)}
            </label>
          ))}
        </fieldset>
      ) : null}
      {people.length ? (
        <fieldset>
          <legend>Mention</legend>
          {people.map((p) => (
            <label class="check" key={p.id}>
              <input type="checkbox" checked={mentions.includes(p.id)} onChange={() => setMentions(toggle(mentions, p.id))} />{" "}
              {p.name || p.id.slice(0, 8)}
            </label>
          ))}
        </fieldset>
      ) : null}
      <button type="submit" disabled={cmd.busy}>
        Post insight
      </button>
      <ProblemNote id="insight-problem" problem={cmd.problem} />
    </form>
  );
}
