// Insights: what the swarm found (with what each cites and whom it mentions), and for
// members a form to post one (kind, text, cite earlier insights, mention people).
import { memo } from "preact/compat";
import { useState } from "preact/hooks";
import { command } from "../../api";
import { useEarlier } from "../../ui/earlier";
import { Field, ProblemNote, useCommand } from "../../ui/command";
import { nameIn, when } from "../../ui/format";
import type { Insight } from "../../views";
import { NewMark } from "./briefing";
import type { RoomProps } from "./room";

const KINDS = ["finding", "question", "answer", "hypothesis"];
/** Insights offered to cite (the latest ones). */
export const CITABLE = 20;

export function Insights(props: RoomProps) {
  const { view } = props;
  // the document holds the newest; older ones are paged in on request
  const { all: insights, more } = useEarlier(view.case_id, "insights", view.insights, view.totals?.insights ?? view.insights.length, props.current);
  const byId = new Map(insights.map((i) => [i.id, i]));
  const highlight = props.current && props.isMember && !props.isOwner;
  const canPost = props.current && view.status === "open" && (props.isMember || props.isOwner);
  return (
    <section class="card insights" aria-labelledby="insights-title">
      <h2 id="insights-title">Insights</h2>
      {insights.length === 0 ? <p class="muted">No insights yet.</p> : null}
      {more}
      <ul class="entries">
        {insights.map((insight) => (
          <InsightRow
            key={insight.id}
            insight={insight}
            isNew={highlight && insight.version > props.acked}
            author={nameIn(view, insight.author_id)}
            cites={insight.refers_to.map((id) => [id, (byId.get(id)?.text ?? id.slice(0, 8)).slice(0, 40)])}
            mentions={insight.mentions.map((id) => nameIn(view, id)).join(", ")}
          />
        ))}
      </ul>
      {canPost ? <PostInsight {...props} insights={insights} /> : null}
    </section>
  );
}

interface RowProps {
  insight: Insight;
  isNew: boolean;
  author: string;
  cites: string[][];
  mentions: string;
}

const same = (a: RowProps, b: RowProps) =>
  a.insight === b.insight &&
  a.isNew === b.isNew &&
  a.author === b.author &&
  a.mentions === b.mentions &&
  a.cites.join() === b.cites.join();

/** One insight; unchanged ones are not rendered again (patches keep their identity). */
const InsightRow = memo(function InsightRow({ insight, isNew, author, cites, mentions }: RowProps) {
  return (
    <li id={`insight-${insight.id}`} data-insight={insight.id} class={isNew ? "new" : ""}>
      {isNew ? <NewMark /> : null} <strong>{insight.kind}</strong> {insight.text}{" "}
      <span class="muted">
        ({author}, {when(insight.at)})
      </span>
      {cites.length || mentions ? (
        <div class="refs muted">
          {cites.length ? (
            <span>
              cites{" "}
              {cites.map(([id, text], i) => (
                <>
                  {i ? ", " : ""}
                  <a href={`#insight-${id}`}>“{text}”</a>
                </>
              ))}
            </span>
          ) : null}
          {mentions ? <span> · mentions {mentions}</span> : null}
        </div>
      ) : null}
    </li>
  );
}, same);

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
          <legend>Cite earlier insights{props.insights.length > CITABLE ? ` (the latest ${CITABLE})` : ""}</legend>
          {props.insights.slice(-CITABLE).map((i) => (
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
