// An article: its KCS sections sentence by sentence, each with where it came from (the
// event, who, when; the editor's own sentences marked), and for its drafter or a
// supervisor the editor (plain text per section: unchanged sentences keep their source),
// publish and retire; for everyone else, flagging a published article.
import { useEffect, useState } from "preact/hooks";
import { ApiError, command, get } from "../../api";
import { agentNames, nameOf, SECTIONS, type Article, type Sentence, type Source } from "../../knowledge";
import type { ScreenProps } from "../../routes";
import { ProblemNote, useCommand } from "../../ui/command";
import { label, when, words } from "../../ui/format";
import { isSupervisor } from "../../views";

export function ArticleScreen({ params, me }: ScreenProps) {
  const id = params["id"] ?? "";
  const [article, setArticle] = useState<Article | null>(null);
  const [error, setError] = useState("");
  const [known, setKnown] = useState<Map<string, string>>(new Map());
  const load = (position = 0) =>
    get<Article>(`/api/articles/${id}${position ? `?min_position=${position}` : ""}`)
      .then((doc) => {
        setArticle(doc);
        setError("");
      })
      .catch((e: unknown) => setError(e instanceof ApiError ? (e.problem.detail ?? e.problem.title) : String(e)));
  useEffect(() => {
    void load();
    void agentNames().then(setKnown);
  }, [id]);
  if (!article) {
    return (
      <section aria-labelledby="article-title">
        <h1 id="article-title">Article</h1>
        {error ? (
          <p class="problem" role="alert">
            This article cannot be shown: {error}
          </p>
        ) : (
          <p>Loading the article…</p>
        )}
      </section>
    );
  }
  const editor = article.drafted_by === me.id || isSupervisor(me);
  return (
    <article class="article" aria-labelledby="article-title" data-status={article.status} data-version={article.version}>
      <h1 id="article-title">{article.title}</h1>
      <p class="meta">
        <span class={`pill status-${article.status}`}>{label(article.status)}</span> drafted by{" "}
        {nameOf(known, article.drafted_by)} from{" "}
        <a href={`/cases/${article.case_id}`} data-route>
          its case
        </a>{" "}
        · reused {article.reuse_count}× · standing {article.standing} · version {article.version}
      </p>
      {article.flags.length ? (
        <ul class="flags" aria-label="Flags">
          {article.flags.map((flag, n) => (
            <li key={n} class="problem">
              Flagged by {nameOf(known, flag.by)} ({when(flag.at)}): {flag.reason}
            </li>
          ))}
        </ul>
      ) : null}
      {SECTIONS.map((name) => (
        <section key={name} class="kcs-section" aria-labelledby={`section-${name}`} data-section={name}>
          <h2 id={`section-${name}`}>{label(name)}</h2>
          {article.sections[name].length === 0 ? (
            <p class="muted">Nothing yet.</p>
          ) : (
            <ol class="sentences">
              {article.sections[name].map((sentence, n) => (
                <SentenceLine key={n} sentence={sentence} known={known} />
              ))}
            </ol>
          )}
        </section>
      ))}
      {editor && article.status !== "retired" ? <Editor article={article} reload={load} /> : null}
      {!editor && article.status !== "draft" && article.status !== "retired" ? (
        <Flag article={article} reload={load} />
      ) : null}
    </article>
  );
}

function origin(source: Source, known: Map<string, string>): string {
  const who = nameOf(known, source.author_id);
  if (source.event === "Edited") {
    const was = source.was ? `, rewriting ${words(source.was.event)} by ${nameOf(known, source.was.author_id)}` : "";
    return `written by ${who} in edit v${source.version} · ${when(source.at)}${was}`;
  }
  return `${words(source.event)} by ${who} · case v${source.version} · ${when(source.at)}`;
}

function SentenceLine({ sentence, known }: { sentence: Sentence; known: Map<string, string> }) {
  const edited = sentence.source.event === "Edited";
  return (
    <li class={edited ? "sentence by-editor" : "sentence"} data-event={sentence.source.event}>
      <span class="text">{sentence.text}</span> <small class="provenance">({origin(sentence.source, known)})</small>
    </li>
  );
}

const textOf = (sentences: Sentence[]) => sentences.map((s) => s.text).join("\n");

function Editor({ article, reload }: { article: Article; reload: (position?: number) => Promise<void> }) {
  const [texts, setTexts] = useState<Record<string, string>>({});
  const save = useCommand();
  const act = useCommand();
  useEffect(() => {
    setTexts(Object.fromEntries(SECTIONS.map((name) => [name, textOf(article.sections[name])])));
  }, [article.version]);
  const changed = SECTIONS.filter((name) => (texts[name] ?? "") !== textOf(article.sections[name]));
  const onSave = async (event: Event) => {
    event.preventDefault();
    const sections = Object.fromEntries(changed.map((name) => [name, texts[name] ?? ""]));
    let position = 0;
    const ok = await save.run(async () => {
      const done = await command("POST", `/api/articles/${article.article_id}/edits`, { sections });
      position = done.position;
      return done;
    });
    if (ok) await reload(position);
  };
  const run = async (path: string, body?: unknown) => {
    let position = 0;
    const ok = await act.run(async () => {
      const done = await command("POST", `/api/articles/${article.article_id}/${path}`, body);
      position = done.position;
      return done;
    });
    if (ok) await reload(position);
  };
  return (
    <section class="editor" aria-labelledby="editor-title">
      <h2 id="editor-title">Edit</h2>
      <form onSubmit={onSave}>
        {SECTIONS.map((name) => (
          <label key={name}>
            {label(name)} (one sentence per line)
            <textarea
              rows={4}
              maxLength={20000}
              value={texts[name] ?? ""}
              onInput={(e) => setTexts({ ...texts, [name]: e.currentTarget.value })}
            />
          </label>
        ))}
        <button type="submit" disabled={save.busy || changed.length === 0} aria-describedby="edit-problem">
          Save edits
        </button>
        <ProblemNote id="edit-problem" problem={save.problem} />
      </form>
      <p>
        {article.status !== "published" ? (
          <button type="button" onClick={() => void run("publish")} disabled={act.busy} aria-describedby="act-problem">
            Publish
          </button>
        ) : null}{" "}
        <button type="button" class="secondary" onClick={() => void run("retire", {})} disabled={act.busy}>
          Retire
        </button>
      </p>
      <ProblemNote id="act-problem" problem={act.problem} />
    </section>
  );
}

function Flag({ article, reload }: { article: Article; reload: (position?: number) => Promise<void> }) {
  const [reason, setReason] = useState("");
  const cmd = useCommand();
  const submit = async (event: Event) => {
    event.preventDefault();
    let position = 0;
    const ok = await cmd.run(async () => {
      const done = await command("POST", `/api/articles/${article.article_id}/flags`, { reason });
      position = done.position;
      return done;
    });
    if (ok) {
      setReason("");
      await reload(position);
    }
  };
  return (
    <form class="flag" onSubmit={submit}>
      <label>
        What is wrong or out of date
        <input value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
      </label>
      <button type="submit" class="secondary" disabled={cmd.busy} aria-describedby="flag-problem">
        Flag
      </button>
      <ProblemNote id="flag-problem" problem={cmd.problem} />
    </form>
  );
}
