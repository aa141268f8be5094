class Cart:
    def __init__(self):
        self.lines = []

    def add(self, sku, quantity):
        self.lines.append((sku, quantity))


def demo():
    cart = Cart()
    cart.add("apple", 2)
    return cart
