"""A shopping cart."""


class Cart:
    def __init__(self):
        self.items = []

    def add(self, name, price, qty=1):
        self.items.append((name, price, qty))

    def _items_total(self):
        return sum(price * qty for _, price, qty in self.items)

    def total(self, discount=0.0):
        return round(self._items_total() * (1 - discount), 2)
