"""The XML export of the first release, kept for old clients."""

from xml.sax.saxutils import escape


def export_xml(rows):
    parts = ["<rows>"]
    for row in rows:
        fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in row.items())
        parts.append(f"<row>{fields}</row>")
    parts.append("</rows>")
    return "".join(parts)
