"""The one rule set for text entering the database, and for stored text shown on a terminal.

Every path that stores text (the CLI's options, every importer, the services behind both)
cleans it with :func:`clean`:

- C0 and C1 control characters go, a terminal escape sequence whole (colours, cursor moves,
  an OSC 8 hyperlink with its URL), BEL, DEL and the rest one by one; a CR or
  CRLF is a line break, U+2028/U+2029 too. In multi-line fields (claim text, context, notes)
  line breaks are kept, elsewhere they become spaces; tabs always become spaces.
- Format characters (Unicode category Cf) go: bidi embeddings, overrides, isolates and marks,
  zero-width space, word joiner, soft hyphen, BOM, tag characters. Kept are the zero-width
  (non-)joiner U+200C/U+200D, which Persian, Indic and emoji spelling need, and the prepended
  concatenation marks (U+0600-U+0605 ...), which are visible signs. Names ignore the joiners
  anyway (``factdb.textkeys``).
- Runs of spaces (any Unicode space) are one space, ends are trimmed, the result is NFC.

:func:`visible` is the other half: what the listings apply to stored text (which may predate
these rules) so that no control sequence reaches a terminal.
"""

from __future__ import annotations

import re
import unicodedata

# Cf characters that are kept: joiners (spelling) and prepended concatenation marks (visible)
_KEEP_FORMAT = frozenset(
    [0x200C, 0x200D, 0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06DD, 0x070F]
    + [0x0890, 0x0891, 0x08E2, 0x110BD, 0x110CD]
)
_SPACE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# a terminal escape sequence (ECMA-48) goes whole, not only its ESC: CSI ("\x1b[31m"), OSC
# with its text ("\x1b]8;;URL\x07": a hyperlink), other two-character escapes; and the
# 8-bit CSI/OSC introducers
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)


class _CleanTable(dict[int, int | str | None]):
    """A ``str.translate`` table filled on first sight of each character (most never occur,
    and scanning all of Unicode up front would slow every command's start)."""

    def __missing__(self, code: int) -> int | str | None:
        char = chr(code)
        category = unicodedata.category(char)
        result: int | str | None = code
        if char in "\r\u2028\u2029":
            result = "\n"
        elif code in (0x09, 0x0A):
            result = code
        elif category == "Cc" or (category == "Cf" and code not in _KEEP_FORMAT):
            result = None
        elif category == "Cs":  # a lone surrogate (undecodable bytes in an argument)
            result = "\ufffd"
        self[code] = result
        return result


_TABLE = _CleanTable()


def strip_invisible(value: str) -> str:
    """``value`` without control and format characters (joiners kept), line ends as ``\\n``."""
    if value.isprintable():
        return value
    if "\r\n" in value:
        value = value.replace("\r\n", "\n")
    if "\x1b" in value or any(c in value for c in "\x90\x98\x9b\x9d\x9e\x9f"):
        value = _ESCAPE.sub("", value)
    return value.translate(_TABLE)


def clean(value: str, *, multiline: bool = False) -> str:
    """Text as factdb stores it: see the module docstring for the rules.

    Without ``multiline`` line breaks become spaces (names, labels, URLs are one line).
    """
    if not value.isascii() or not value.isprintable():
        value = unicodedata.normalize("NFC", strip_invisible(value))
    if "\n" in value:
        if multiline:
            lines = [_SPACE.sub(" ", line).strip() for line in value.split("\n")]
            return "\n".join(lines).strip()
        value = value.replace("\n", " ")
    if "  " in value or "\t" in value or not value.isascii():
        value = _SPACE.sub(" ", value)
    return value.strip()


def clean_text(value: str) -> str:
    """:func:`clean` for multi-line text (claim text, context, notes)."""
    return clean(value, multiline=True)


# --- output -------------------------------------------------------------------------------


class _VisibleTable(dict[int, int | str]):
    """Control and format characters as visible escapes (``\\x1b``, ``\\u202e``)."""

    def __init__(self, keep_newline: bool) -> None:
        super().__init__()
        self.keep_newline = keep_newline

    def __missing__(self, code: int) -> int | str:
        category = unicodedata.category(chr(code))
        result: int | str = code
        if code == 0x0A and self.keep_newline:
            result = code
        elif category in ("Cc", "Cf", "Cs", "Zl", "Zp") and code not in _KEEP_FORMAT:
            result = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
        self[code] = result
        return result


_VISIBLE = _VisibleTable(keep_newline=True)
_VISIBLE_ONE_LINE = _VisibleTable(keep_newline=False)


def visible(value: str, *, keep_newline: bool = True) -> str:
    """``value`` safe for a terminal: every control or format character (a tab too) is
    written as a visible escape, so stored text can neither move the cursor, recolour the
    screen, make a hyperlink nor reorder a line. Line breaks are kept unless told."""
    if value.isprintable():
        return value
    return value.translate(_VISIBLE if keep_newline else _VISIBLE_ONE_LINE)


class _JsonTable(dict[int, int | str]):
    """Control and format characters as JSON escapes (``\\u202e``): the same value, inert."""

    def __missing__(self, code: int) -> int | str:
        category = unicodedata.category(chr(code))
        result: int | str = code
        if category in ("Cc", "Cf", "Zl", "Zp") and code not in _KEEP_FORMAT and code != 0x0A:
            if code > 0xFFFF:  # JSON spells a supplementary character as a surrogate pair
                high, low = divmod(code - 0x10000, 0x400)
                result = f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"
            else:
                result = f"\\u{code:04x}"
        self[code] = result
        return result


_JSON = _JsonTable()


def inert_json(serialised: str) -> str:
    """Serialised JSON with every control or format character escaped. Such characters can
    only stand inside JSON strings, where an escape means the same character: the value
    parses back unchanged, and a terminal shows the escape instead of obeying it."""
    if serialised.isprintable():
        return serialised
    return serialised.translate(_JSON)


def fold(value: str) -> str:
    """Case- and accent-folded form of a word, close to the full-text index's own folding."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
