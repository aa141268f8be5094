"""Rendering posts as HTML fragments."""

from app.text import slugify, truncate


def teaser(post):
    return f"<p>{truncate(post.body, 140)}</p>"


def permalink(post):
    return f"/posts/{post.id}-{slugify(post.title)}"
