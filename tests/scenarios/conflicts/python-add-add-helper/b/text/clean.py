"""Text cleaning helpers."""

import re

TAG = re.compile(r"<[^>]+>")


def strip_tags(text):
    return TAG.sub("", text)


def collapse_spaces(text):
    return re.sub(r"\s+", " ", text).strip()


def normalize(text):
    """Plain, single-spaced text."""
    return collapse_spaces(strip_tags(text))
