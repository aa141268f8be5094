"""Input validation."""

import re

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]+$")


def is_email(value):
    return bool(EMAIL.match(value))
