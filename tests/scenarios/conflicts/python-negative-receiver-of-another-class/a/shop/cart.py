class Cart:
    def add(self, sku, quantity):
        self.lines = [(sku, quantity)]


class Bag:
    def put(self, item):
        self.items = [item]


def demo():
    bag = Bag()
    bag.put("apple")
    return bag
