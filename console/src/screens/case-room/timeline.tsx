// The timeline: every event of the case in order, newest last; what is newer than the
// caller's acknowledgement is marked.
import { nameIn, when, words } from "../../ui/format";
import { NewMark } from "./briefing";
import type { RoomProps } from "./room";

export function Timeline(props: RoomProps) {
  const { view, acked } = props;
  const highlight = props.current && props.isMember && !props.isOwner;
  const earlier = view.timeline_total - view.timeline.length;
  return (
    <section class="card timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {earlier > 0 ? <p class="muted">{earlier} earlier events are not shown.</p> : null}
      <ol class="timeline-list" aria-label="Events, oldest first">
        {view.timeline.map((item) => {
          const isNew = highlight && item.version > acked && item.type !== "BriefingAcknowledged";
          return (
            <li key={item.version} class={isNew ? "new" : ""} data-version={item.version}>
              {isNew ? <NewMark /> : null} <span class="muted">v{item.version}</span> {nameIn(view, item.by)}:{" "}
              {words(item.type)}
              {item.text ? ` — ${item.text}` : ""} <span class="muted">{when(item.at)}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
