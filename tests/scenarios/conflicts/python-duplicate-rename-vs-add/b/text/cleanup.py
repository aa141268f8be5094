"""Whitespace and accent cleanup."""

import re
import unicodedata


def strip_accents(text):
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean_whitespace(text):
    return re.sub(r"\s+", " ", text).strip()


def clean(text):
    return clean_whitespace(strip_accents(text))


def normalize(text):
    return strip_accents(text).casefold()
