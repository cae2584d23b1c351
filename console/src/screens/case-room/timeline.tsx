// The timeline: every event of the case in order, newest last; what is newer than the
// caller's acknowledgement is marked.
import { useEarlier } from "../../ui/earlier";
import { nameIn, when, words } from "../../ui/format";
import { NewMark } from "./briefing";
import type { RoomProps } from "./room";
import { memo } from "preact/compat";
import type { TimelineItem } from "../../views";

/** One event; unchanged events are not rendered again (patches keep their identity). */
const Row = memo(function Row({ item, who, isNew }: { item: TimelineItem; who: string; isNew: boolean }) {
  return (
    <li class={isNew ? "new" : ""} data-version={item.version}>
      {isNew ? <NewMark /> : null} <span class="muted">v{item.version}</span> {who}: {words(item.type)}
      {item.text ? ` — ${item.text}` : ""} <span class="muted">{when(item.at)}</span>
    </li>
  );
});

export function Timeline(props: RoomProps) {
  const { view, acked } = props;
  const highlight = props.current && props.isMember && !props.isOwner;
  const { all: shown, more } = useEarlier(view.case_id, "timeline", view.timeline, view.timeline_total, props.current);
  return (
    <section class="card timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {more}
      <ol class="timeline-list" aria-label="Events, oldest first">
        {shown.map((item) => (
          <Row
            key={item.version}
            item={item}
            who={nameIn(view, item.by)}
            isNew={highlight && item.version > acked && item.type !== "BriefingAcknowledged"}
          />
        ))}
      </ol>
    </section>
  );
}
