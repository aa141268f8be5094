"""Prices of an order."""


def line_total(price, quantity, discount):
    return price * quantity * (1 - discount)


def order_total(lines):
    return sum(line_total(p, q, d) for p, q, d in lines)
