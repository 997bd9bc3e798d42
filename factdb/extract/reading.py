"""Reading an article: plain text or a saved HTML page, checked before any parsing.

A page's main text, title, site name, URL and date come from trafilatura (a maintained
article-extraction library), run on the saved file only: nothing is fetched. Offsets in the
output refer to :attr:`Article.text`, the text as read (after decoding and, for a page, after
trafilatura has taken the article out of it).
"""

from __future__ import annotations

import re

from factdb.errors import FactdbError
from factdb.extract.model import Article

_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_WORD = re.compile(r"[^\W\d_]+")
# below this share of English function words a text is not English: English prose has
# 35-50 %, other languages written in Latin letters well under 10 %
_MIN_ENGLISH_SHARE = 0.15
_MIN_WORDS = 3
# a page whose main text is shorter is navigation or a stub, not an article
_MIN_PAGE_WORDS = 20


def read_article(data: bytes, name: str) -> Article:
    """Decode ``data`` (a text file or a saved HTML page) into an :class:`Article`.

    Raises FactdbError with one plain sentence for an empty file, binary data, a page with no
    article text, or a text that is not English.
    """
    if not data.strip():
        raise FactdbError(f"{name} is empty: give a news article as plain text or HTML")
    if b"\x00" in data[:65536]:
        raise FactdbError(f"{name} is binary data, not an article (plain text or HTML)")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FactdbError(
            f"{name} is not UTF-8 text: give a plain-text article in UTF-8 or a saved HTML page"
        ) from None
    is_page = _HTML_START.match(data[:4096])
    article = _from_html(decoded, name) if is_page else Article(text=decoded)
    _check_english(article.text, name)
    return article


def _from_html(html: str, name: str) -> Article:
    """The main text and metadata of a saved page (trafilatura, no network)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False
    )
    text = getattr(document, "text", None) if document is not None else None
    if not text or len(_WORD.findall(text)) < _MIN_PAGE_WORDS:
        raise FactdbError(f"{name}: no article text found in the HTML page")
    return Article(
        text=text,
        title=getattr(document, "title", None) or None,
        outlet=getattr(document, "sitename", None) or None,
        url=getattr(document, "url", None) or None,
        published_on=getattr(document, "date", None) or None,
    )


def _check_english(text: str, name: str) -> None:
    """Refuse a text whose words are not English (the pipeline parses English only)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < _MIN_WORDS:
        raise FactdbError(f"{name} has too few words to be an article")
    share = sum(w in STOP_WORDS for w in words) / len(words)
    if share < _MIN_ENGLISH_SHARE:
        raise FactdbError(
            f"{name} does not look like English text ({share:.0%} English function words); "
            "factdb extract reads English articles only"
        )
