"""Text helpers for posts."""



def truncate(text, width=80):
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + "…"
