"""Catalogue items."""


class Item:
    currency = "EUR"

    def __init__(self, sku, price):
        self.sku = sku
        self.price = price

    def display_price(self):
        return f"{self.price:.2f} {self.currency}"

    def label(self):
        return f"{self.sku} ({self.display_price()})"
