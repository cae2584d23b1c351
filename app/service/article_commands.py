"""The knowledge commands of the declared table (`app.service.commands.COMMANDS` ends
with these) and how the runner executes an article command."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from app.schemas import articles as body
from app.service.articles import ArticleService
from app.service.command_spec import Answer, Call, Command
from app.service.context import CommandContext
from app.service.repository import CommandResult

ARTICLE = "/api/articles/{article_id}"
TAG = "knowledge commands"


def _edit_sections(call: Call) -> dict[str, str]:
    given: dict[str, str] = call.body.sections.model_dump(exclude_none=True)
    return given


ARTICLE_COMMANDS: tuple[Command, ...] = (
    Command(
        "draft_article", "POST", "/api/cases/{case_id}/article",
        "The owner of a resolved case drafts its knowledge article from the swarm: "
        "problem, environment, cause, resolution, every sentence with its source (`Drafted`).",
        body.ArticleAccepted, target="new_article", status_code=201, tag=TAG,
    ),
    Command(
        "edit_article", "POST", f"{ARTICLE}/edits",
        "The drafter or a supervisor edits the text; unchanged sentences keep their source, "
        "new ones are marked as the editor's (`Edited`).",
        body.ArticleAccepted, target="article", body=body.EditArticle, tag=TAG,
        article=lambda a, actor, c: a.edit(
            actor, title=c.body.title, sections=_edit_sections(c)
        ),
    ),
    Command(
        "publish_article", "POST", f"{ARTICLE}/publish",
        "The drafter or a supervisor publishes the article; it becomes searchable (`Published`).",
        body.ArticleAccepted, target="article", tag=TAG,
        article=lambda a, actor, c: a.publish(actor),
    ),
    Command(
        "flag_article", "POST", f"{ARTICLE}/flags",
        "Any agent flags a published article as wrong or stale, saying why (`Flagged`).",
        body.ArticleAccepted, target="article", body=body.FlagArticle, tag=TAG,
        article=lambda a, actor, c: a.flag(actor, reason=c.body.reason),
    ),
    Command(
        "retire_article", "POST", f"{ARTICLE}/retire",
        "The drafter or a supervisor retires the article; it is never found again (`Retired`).",
        body.ArticleAccepted, target="article", body=body.RetireArticle, body_required=False,
        tag=TAG,
        article=lambda a, actor, c: a.retire(actor, reason=c.body.reason if c.body else ""),
    ),
    Command(
        "link_article", "POST", f"{ARTICLE}/reuses",
        "Link a published article to the case it helped solve (the caller sees that case); "
        "counts toward the article's standing (`Reused`).",
        body.ArticleAccepted, target="article", body=body.LinkArticle, tag=TAG,
        article=lambda a, actor, c: a.record_reuse(actor, case_id=c.body.case_id),
    ),
)  # fmt: skip


async def run_article(
    articles: ArticleService | None,
    command: Command,
    context: CommandContext,
    ids: Mapping[str, UUID],
    call: Call,
) -> Answer:
    """Execute an article command ("new_article" or "article" target)."""
    if articles is None:
        raise RuntimeError("this runner has no article service")
    if command.target == "new_article":
        result = await articles.draft(context, ids["case_id"])
        return Answer(_accepted(result), f"{ARTICLE.format(article_id=result.case_id)}")
    decide = command.article
    assert decide is not None
    case_id = getattr(call.body, "case_id", None)
    result = await articles.execute(
        ids["article_id"],
        context,
        lambda article, actor: decide(article, actor, call),
        case_id=case_id if isinstance(case_id, UUID) else None,
    )
    return Answer(_accepted(result))


def _accepted(result: CommandResult) -> body.ArticleAccepted:
    return body.ArticleAccepted(
        article_id=result.case_id, version=result.version, position=result.position
    )
