"""Text helpers for posts."""

import re
import unicodedata


def slugify(title):
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")


def truncate(text, width=80):
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + "…"
