"""Formatting amounts for receipts."""

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def format_price(amount, currency):
    return f"{SYMBOLS[currency]}{amount:,.2f}"


def receipt_line(name, amount, currency="USD"):
    return f"{name:<20}{format_price(amount, currency):>12}"
