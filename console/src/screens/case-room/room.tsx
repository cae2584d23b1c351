// The case room: the briefing first, then the swarm (people, insights, proposals), the
// timeline, and the actions the caller's part allows. Live over /ws/cases/{id}; with
// `?at_version=V` it shows the case as it stood at version V (read-only).
import { memo } from "preact/compat";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, get } from "../../api";
import { useLive } from "../../live";
import type { ScreenProps } from "../../routes";
import { label } from "../../ui/format";
import { isSupervisor, type CaseView, type Me } from "../../views";
import { LiveStatus } from "../inbox";
import { Acknowledge, Briefing } from "./briefing";
import { LatestView } from "./decision";
import { ExpertActions } from "./expert-actions";
import { Insights } from "./insights";
import { KnowledgePanel } from "./knowledge";
import { OwnerActions } from "./owner-actions";
import { People } from "./people";
import { Proposals } from "./proposals";
import { Timeline } from "./timeline";
import { VersionSlider } from "./slider";

/** A section re-renders only when what it shows changed (patches keep the identity of
 * everything they did not touch): these are the document members each one reads. */
const FLAGS = ["current", "isOwner", "isMember", "acked", "present", "me"] as const;
function sameFor(...members: (keyof CaseView)[]) {
  return (a: RoomProps, b: RoomProps) =>
    FLAGS.every((flag) => a[flag] === b[flag]) && members.every((m) => a.view[m] === b.view[m]);
}
const BriefingM = memo(Briefing, sameFor("problem", "customer", "context", "customer_messages", "swarm_requests", "totals", "case_id"));
const ProposalsM = memo(Proposals, sameFor("proposals", "insights", "participants", "status", "totals", "case_id"));
const InsightsM = memo(Insights, sameFor("insights", "participants", "invitations", "owner", "status", "totals", "case_id"));
const PeopleM = memo(People, sameFor("participants", "invitations", "owner", "status", "swarm_requests", "case_id"));
const OwnerActionsM = memo(OwnerActions, sameFor("status", "priority", "proposals", "owner", "case_id"));

/** Performance marks for the harness and bench/console.py: `swarmdesk:room-rendered` once
 * the first document is on screen, `swarmdesk:painted` (detail: the version and the wall
 * clock in ms, comparable with another process's) after each version is painted: a layout
 * effect runs as the DOM changes, its animation frame is the one that paints them, and
 * the task after that frame marks it. (A plain effect would itself run a frame later:
 * Preact defers it past the next paint, which would add a frame to every figure.) */
function usePaintMarks(version: number) {
  useLayoutEffect(() => {
    if (version === 0) return;
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (performance.getEntriesByName("swarmdesk:room-rendered").length === 0) {
          performance.mark("swarmdesk:room-rendered");
        }
        performance.mark("swarmdesk:painted", { detail: { version, at: Date.now() } });
      }, 0),
    );
  }, [version]);
}

/** Marked (detail: version, wall clock ms) as each patch arrives: bench/console.py splits
 * ack-to-paint into the server's part and the browser's with it. */
const RECEIVED = "swarmdesk:received";

/** What every part of the room gets. */
export interface RoomProps {
  view: CaseView;
  me: Me;
  /** false when showing an earlier version: nothing can be done there. */
  current: boolean;
  isOwner: boolean;
  isMember: boolean;
  /** The version the caller last acknowledged (0: never). */
  acked: number;
  /** Agent ids in the room right now (null: not known). */
  present: string[] | null;
}

export function CaseRoom({ params, query, me }: ScreenProps) {
  const caseId = params["id"] ?? "";
  const atVersion = Number(query.get("at_version") ?? "") || null;
  const live = useLive<CaseView>(atVersion === null ? `/ws/cases/${caseId}?presence=1` : null, RECEIVED);
  const past = usePast(caseId, atVersion);
  const view = atVersion === null ? live.view : past.view;
  usePaintMarks(view?.version ?? 0);
  const here = atVersion === null ? live.here : null;
  const present = useMemo(() => presentIds(here), [here]);
  const latest = useRef<CaseView | null>(null);
  latest.current = view;
  if (!view) {
    const refused = atVersion === null ? live.status === "refused" : past.error !== "";
    return (
      <section aria-labelledby="room-title">
        <h1 id="room-title">Case room</h1>
        {refused ? (
          <p class="problem" role="alert">
            This case cannot be shown: {atVersion === null ? live.detail : past.error}
          </p>
        ) : (
          <p>Loading the case…</p>
        )}
      </section>
    );
  }
  const participant = view.participants[me.id];
  const props: RoomProps = {
    view,
    me,
    current: atVersion === null,
    isOwner: view.owner.id === me.id,
    isMember: participant !== undefined && participant.left_at === null,
    acked: view.acknowledgements[me.id] ?? 0,
    present,
  };
  const canAct = props.current && (props.isOwner || isSupervisor(me));
  return (
    <LatestView.Provider value={latest}>
    <article class="room" aria-labelledby="room-title" data-version={view.version} data-position={view.position}>
      <header class="room-head">
        <h1 id="room-title">{view.problem.subject}</h1>
        <p class="meta">
          <span class={`pill status-${view.status}`}>{label(view.status)}</span>{" "}
          <span class={`pill priority-${view.priority}`}>{view.priority}</span> {view.customer.name} · owner{" "}
          {view.owner.name || "—"} · version {view.version}
        </p>
        {props.current ? (
          <LiveStatus status={live.status} detail={live.detail} />
        ) : (
          <p class="history-note" role="status">
            You are looking at the case as it stood at version {view.version}.{" "}
            <a href={`/cases/${caseId}`} data-route>
              Back to the live case
            </a>
          </p>
        )}
        <VersionSlider caseId={caseId} latest={props.current ? view.version : past.latest} at={view.version} />
      </header>
      <div class="room-grid">
        <div class="room-main">
          {props.current && props.isMember && !props.isOwner ? <Acknowledge {...props} /> : null}
          <BriefingM {...props} />
          <ProposalsM {...props} />
          <InsightsM {...props} />
          <Timeline {...props} />
        </div>
        <aside class="room-side" aria-label="People and actions">
          <PeopleM {...props} />
          <KnowledgePanel {...props} />
          {props.current && !props.isOwner ? <ExpertActions {...props} /> : null}
          {canAct ? <OwnerActionsM {...props} /> : null}
        </aside>
      </div>
    </article>
    </LatestView.Provider>
  );
}

const presentIds = (here: { id: string }[] | null) => (here === null ? null : here.map((p) => p.id));

/** The case at an earlier version (HTTP `?at_version=`), and the latest version number. */
function usePast(caseId: string, atVersion: number | null) {
  const [state, setState] = useState<{ view: CaseView | null; latest: number; error: string }>({
    view: null,
    latest: 0,
    error: "",
  });
  useEffect(() => {
    if (atVersion === null) return;
    setState((s) => ({ ...s, view: null, error: "" }));
    Promise.all([
      get<CaseView>(`/api/cases/${caseId}?at_version=${atVersion}`),
      get<CaseView>(`/api/cases/${caseId}`),
    ])
      .then(([view, now]) => setState({ view, latest: now.version, error: "" }))
      .catch((error: unknown) =>
        setState({
          view: null,
          latest: 0,
          error: error instanceof ApiError ? (error.problem.detail ?? error.problem.title) : String(error),
        }),
      );
  }, [caseId, atVersion]);
  return state;
}
