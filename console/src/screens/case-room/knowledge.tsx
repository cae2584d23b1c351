// Found before asked: the solved cases and articles most like this case (computed when it
// was opened and whenever its problem or context changed; asked again when those change,
// at most every `SIMILAR_EVERY_MS`), linking one to the case (a reuse: of the article, or
// of the solved case); and, for the owner of a resolved case, drafting its article.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, command, get } from "../../api";
import type { Accepted } from "../../api";
import type { Hit } from "../../knowledge";
import { navigate } from "../../router";
import { ProblemNote, useCommand } from "../../ui/command";
import { Highlight, hitPath } from "../knowledge/search";
import type { RoomProps } from "./room";

interface Similar {
  case_id: string;
  position: number;
  hits: Hit[];
}

export function KnowledgePanel(props: RoomProps) {
  const { view, current, isOwner } = props;
  return (
    <section class="card knowledge" aria-labelledby="similar-title">
      <h2 id="similar-title">Solved before</h2>
      {current && view.status === "open" ? <SimilarList {...props} /> : null}
      {current && isOwner && view.status !== "open" ? <DraftArticle caseId={view.case_id} /> : null}
    </section>
  );
}

/** While a case keeps changing, its similar cases are asked for at most once per this many
 * ms (the last change is always asked for, at most this late). Each request is a search
 * on the server, made by every browser in the room: asked on every change, ten browsers
 * on a busy case (five changes a second) made fifty searches a second, which the changes
 * themselves then waited behind. */
export const SIMILAR_EVERY_MS = 2000;

function SimilarList({ view }: RoomProps) {
  const [similar, setSimilar] = useState<Similar | null>(null);
  const [linked, setLinked] = useState<Set<string>>(new Set());
  const latest = useRef(view);
  latest.current = view;
  const asking = useRef<{ at: number; timer: ReturnType<typeof setTimeout> | undefined; caseId: string }>({
    at: 0,
    timer: undefined,
    caseId: "",
  });
  useEffect(() => {
    // only what the similar search reads (projections/search_rows.py `similar_basis`):
    // patches keep the identity of what they did not touch, so other changes ask nothing
    const state = asking.current;
    const ask = () => {
      state.timer = undefined;
      state.at = Date.now();
      const { case_id: caseId, position } = latest.current;
      // the index follows the views: wait (a few seconds at most) until it has this version
      get<Similar>(`/api/cases/${caseId}/similar?min_position=${position}`)
        .then((found) => {
          if (found.case_id !== latest.current.case_id) return; // another case's answer
          setSimilar((shown) => (shown && shown.case_id === found.case_id && shown.position > found.position ? shown : found));
        })
        .catch(() => undefined); // 503 view-behind: keep what is shown; the next change asks again
    };
    if (state.caseId !== view.case_id) {
      state.caseId = view.case_id;
      clearTimeout(state.timer);
      ask();
      return;
    }
    if (state.timer !== undefined) return; // already due: it reads the latest view
    const wait = state.at + SIMILAR_EVERY_MS - Date.now();
    if (wait <= 0) ask();
    else state.timer = setTimeout(ask, wait);
  }, [view.case_id, view.problem, view.context, view.status]);
  useEffect(() => () => clearTimeout(asking.current.timer), []);
  if (similar === null) return <p>Looking for similar solved cases…</p>;
  if (similar.hits.length === 0) return <p role="status">No similar solved cases or articles yet.</p>;
  return (
    <ul class="similar" aria-label="Similar solved cases and articles">
      {similar.hits.map((hit) => (
        <li key={hit.id} data-kind={hit.kind} data-id={hit.id}>
          <a href={hitPath(hit)} data-route>
            {hit.title}
          </a>{" "}
          <span class="muted">({hit.kind === "article" ? `article, reused ${hit.reuse_count}×` : "solved case"})</span>
          <Highlight text={hit.highlight} />
          <LinkButton caseId={view.case_id} hit={hit} done={linked.has(hit.id)} onLinked={() => setLinked(new Set([...linked, hit.id]))} />
        </li>
      ))}
    </ul>
  );
}

function LinkButton(props: { caseId: string; hit: Hit; done: boolean; onLinked: () => void }) {
  const cmd = useCommand();
  const { hit } = props;
  const problemId = `link-${hit.id}-problem`;
  if (props.done) return <p role="status">Linked to this case.</p>;
  const link = async () => {
    const body = { case_id: props.caseId };
    // an article's reuse, or a solved case's: both count for the people who wrote it
    const path = hit.kind === "article" ? `/api/articles/${hit.id}/reuses` : `/api/cases/${hit.id}/reuses`;
    if (await cmd.run(() => command("POST", path, body))) props.onLinked();
  };
  return (
    <>
      <button type="button" class="secondary" onClick={link} disabled={cmd.busy} aria-describedby={problemId}>
        This helped: link it
      </button>
      <ProblemNote id={problemId} problem={cmd.problem} />
    </>
  );
}

function DraftArticle({ caseId }: { caseId: string }) {
  const cmd = useCommand();
  const [existing, setExisting] = useState<string | null>(null);
  const draft = async () => {
    let created = "";
    const ok = await cmd.run(async () => {
      const done = await command<Accepted>("POST", `/api/cases/${caseId}/article`);
      created = String(done["article_id"] ?? "");
      return done;
    });
    if (ok && created) navigate(`/articles/${created}`);
  };
  useEffect(() => {
    get<{ article_id: string }[]>(`/api/articles?case_id=${caseId}`)
      .then((found) => setExisting(found[0]?.article_id ?? null))
      .catch((e: unknown) => (e instanceof ApiError ? setExisting(null) : undefined));
  }, [caseId]);
  if (existing) {
    return (
      <p>
        <a href={`/articles/${existing}`} data-route>
          This case's knowledge article
        </a>
      </p>
    );
  }
  return (
    <p>
      <button type="button" onClick={draft} disabled={cmd.busy} aria-describedby="draft-problem">
        Draft a knowledge article
      </button>
      <ProblemNote id="draft-problem" problem={cmd.problem} />
    </p>
  );
}
