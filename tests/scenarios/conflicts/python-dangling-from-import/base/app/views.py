"""Rendering posts as HTML fragments."""

from app.text import truncate


def teaser(post):
    return f"<p>{truncate(post.body, 140)}</p>"
