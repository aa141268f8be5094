"""Catalogue items."""


class Item:
    currency = "EUR"
    label = "item"

    def __init__(self, sku, price):
        self.sku = sku
        self.price = price

    def display_price(self):
        return f"{self.price:.2f} {self.currency}"
