"""Search without a database: reading a query as words and phrases, and the rows derived
from case and article documents."""

from __future__ import annotations

from typing import Any

from projections.cjk import grams
from projections.search_rows import article_row, case_row, similar_basis
from projections.search_terms import MAX_TERM_CHARS, MAX_TERMS, parse


def test_a_query_is_words_and_phrases_never_syntax() -> None:
    terms = parse('Login "SSO loop" fails & | !(x) <-> "')
    assert terms.words == ("login", "fails", "x")
    assert terms.phrases == (("sso", "loop"),)
    assert parse("the of and").words == ("the", "of", "and")  # only common words: kept
    assert parse("the login").words == ("login",)
    cjk = parse("логин 登录失败")
    assert (cjk.words, cjk.phrases) == (("логин",), (("登录", "录失", "失败"),))
    assert parse("\x00\x01'; DROP TABLE x; --").words == ("drop", "table", "x")
    assert parse("").empty
    assert parse('"" ** ()').empty
    many = parse(" ".join(f"w{n}" for n in range(100)))
    assert len(many.words) == MAX_TERMS
    assert parse("y" * 500).words == ("y" * MAX_TERM_CHARS,)
    assert parse("a_b").words == ("b",)  # underscores separate; "a" is a common word


def test_cjk_runs_become_bigrams_in_queries_and_rows() -> None:
    assert (
        grams("Outlook 同步失败, メール届かない; 中")
        == "同步 步失 失败\nメー ール ル届 届か かな ない\n中"
    )
    assert grams("no cjk here") == ""
    terms = parse('Outlook同步失败 "邮件 同步" 中 서버가')
    assert terms.words == ("邮件", "同步", "outlook", "中")  # a quoted pair of CJK words: words
    assert terms.phrases == (("同步", "步失", "失败"), ("서버", "버가"))
    assert parse("同步").words == ("同步",)  # two characters: one bigram, a word
    long = parse("一二三四五六七八九十十一")
    assert long.phrases == (("一二", "二三", "三四", "四五", "五六", "六七", "七八", "八九"),)


def case_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "case_id": "c1",
        "status": "resolved",
        "position": 9,
        "updated_at": "t",
        "product_area": "identity",
        "customer": {"name": "ACME secret", "contact": "it@acme.example"},
        "problem": {"subject": "SSO fails", "description": "Nobody logs in."},
        "context": {"symptom": [{"text": "502"}], "environment": [{"text": "Okta"}]},
        "insights": {"i1": {"text": "Proxy drops it."}},
        "proposals": {"p1": {"summary": "Fix proxy.", "steps": ["Open it.", "Set it."]}},
        "resolution": {"summary": "Fixed."},
    }
    doc.update(changes)
    return doc


def test_case_rows_index_the_swarm_never_the_customer() -> None:
    row = case_row(case_doc())
    assert row is not None
    assert row["title"] == "SSO fails"
    assert row["body"].split("\n") == [
        "Nobody logs in.",
        "502",
        "Okta",
        "Proxy drops it.",
        "Fix proxy.",
        "Open it.",
        "Set it.",
        "Fixed.",
    ]
    assert "ACME" not in row["body"]
    assert "acme.example" not in row["body"]
    windows = case_doc(
        insights=[{"text": "Proxy drops it."}],
        proposals={"items": [{"summary": "Fix proxy.", "steps": ["Open it.", "Set it."]}]},
    )
    assert case_row(windows) == row  # the same text from windowed collections
    assert case_row(case_doc(status="open", resolution=None)) is None
    assert (row["title_grams"], row["body_grams"], row["reuse_count"]) == ("", "", 0)
    cjk = case_row(case_doc(problem={"subject": "邮件同步失败", "description": ""}, reuse_count=2))
    assert cjk is not None
    assert (cjk["title_grams"], cjk["reuse_count"]) == ("邮件 件同 同步 步失 失败", 2)


def test_article_rows_and_similar_basis() -> None:
    article = {
        "article_id": "a1",
        "status": "draft",
        "title": "T",
        "product_area": "x",
        "position": 3,
        "reuse_count": 2,
        "sections": {"problem": [{"text": "P."}], "cause": [], "resolution": [{"text": "R."}]},
    }
    assert article_row(article) is None
    published = article_row({**article, "status": "published"})
    assert published is not None
    assert (published["body"], published["reuse_count"]) == ("P.\nR.", 2)
    assert similar_basis(case_doc()) is None  # only open cases look for similar ones
    basis = similar_basis(case_doc(status="open"))
    assert basis == "SSO fails\nNobody logs in.\n502\nOkta"
