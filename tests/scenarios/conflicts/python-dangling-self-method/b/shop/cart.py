"""A shopping cart."""


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, price, qty=1):
        self.items.append((name, price, qty))

    def _subtotal(self):
        return sum(price * qty for _, price, qty in self.items)

    def total(self, discount=0.0):
        return round(self._subtotal() * (1 - discount), 2)

    def average_price(self):
        count = sum(qty for _, _, qty in self.items)
        return self._subtotal() / count if count else 0.0
