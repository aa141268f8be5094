class Cart:
    def add(self, sku, quantity):
        self.lines = [(sku, quantity)]


class Bag:
    def add(self, item):
        self.items = [item]


def demo():
    bag = Bag()
    bag.add("apple")
    return bag
