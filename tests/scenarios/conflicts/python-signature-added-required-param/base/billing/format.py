"""Formatting amounts for receipts."""


def format_price(amount):
    return f"${amount:,.2f}"


def receipt_line(name, amount):
    return f"{name:<20}{format_price(amount):>12}"
