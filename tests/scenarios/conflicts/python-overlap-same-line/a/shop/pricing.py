"""Prices and discounts for the shop."""

TAX_RATE = 0.2


def apply_discount(price, percent):
    """The price after a percentage discount, rounded to cents."""
    if percent <= 0:
        return price
    discounted = price * (1 - min(percent, 90) / 100)
    return round(discounted, 2)


def with_tax(price):
    """The price with value-added tax."""
    return round(price * (1 + TAX_RATE), 2)
