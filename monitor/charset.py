"""A fetched page's text: its bytes decoded by the charset it declares, as browsers do.

The header's charset, then a ``<meta>`` one, then UTF-8 when the bytes are valid UTF-8, else
GB18030 when they read cleanly as that, else UTF-8 with repairs. Only the WHATWG Encoding
Standard's charsets are taken from a page.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re

logger = logging.getLogger(__name__)

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
# Pages that declare GB2312 or GBK are almost always written in their superset GB18030.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}
# The charsets a page may declare: the WHATWG Encoding Standard's, as Python names them. A
# page that names any other codec Python knows (punycode, whose decoding takes time with the
# square of its input, idna, unicode_escape, rot13 …) is read as if it had named none.
_WEB_LABELS = (
    "utf-8", "utf-16-le", "utf-16-be", "utf-16", "ascii", "latin-1", "cp866",
    *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "tis-620",
    *(f"cp{n}" for n in range(1250, 1259)),
    "gb18030", "gbk", "big5", "big5hkscs", "euc_jp", "iso2022_jp", "shift_jis", "cp932",
    "euc_kr", "cp949",
)  # fmt: skip


@functools.cache
def _web_charsets() -> frozenset[str]:
    """The codecs of ``_WEB_LABELS``, looked up when a page first declares one that is not
    UTF-8: each lookup imports its codec, and most pages need none."""
    return frozenset(codecs.lookup(label).name for label in _WEB_LABELS)


def decode(body: bytes, content_type: str) -> str:
    """Decode a page by its declared charset (header, then ``<meta>``), falling back to UTF-8."""
    if body.startswith(codecs.BOM_UTF8):
        return body[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    charset = _charset_from_header(content_type) or _charset_from_meta(body[:4096])
    if charset:
        name = _CHARSET_ALIASES.get(charset.lower(), charset)
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            codec = None
        if codec == "utf-8" or (codec is not None and codec in _web_charsets()):
            return body.decode(codec, errors="replace")
        logger.debug("not a web charset: %r", charset)
    # Undeclared: UTF-8 if it is valid UTF-8, else GB18030 if that reads cleanly (Chinese shops
    # that declare their charset only in a header, saved to a file), else UTF-8 with repairs.
    for encoding in ("utf-8", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", errors="replace")


def _charset_from_header(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def _charset_from_meta(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None
