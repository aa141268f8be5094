"""Turn query results into reports."""


def summarize(rows):
    """Count and total of the amount column."""
    amounts = [row["amount"] for row in rows]
    return {"count": len(amounts), "total": sum(amounts)}


def to_csv(rows):
    header = ",".join(rows[0]) if rows else ""
    lines = [",".join(str(v) for v in row.values()) for row in rows]
    return "\n".join([header, *lines])

