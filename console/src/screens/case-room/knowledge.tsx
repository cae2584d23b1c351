// Found before asked: the solved cases and articles most like this case (computed when it
// was opened and whenever its problem or context changed), linking one to the case (a
// reuse: of the article, or of the solved case); and, for the owner of a resolved case,
// drafting its article.
import { useEffect, useState } from "preact/hooks";
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

function SimilarList({ view }: RoomProps) {
  const [similar, setSimilar] = useState<Similar | null>(null);
  const [linked, setLinked] = useState<Set<string>>(new Set());
  useEffect(() => {
    // the index follows the views: wait (a few seconds at most) until it has this version
    get<Similar>(`/api/cases/${view.case_id}/similar?min_position=${view.position}`)
      .then(setSimilar)
      .catch(() => undefined); // 503 view-behind: keep what is shown; the next version asks again
  }, [view.case_id, view.position]);
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
