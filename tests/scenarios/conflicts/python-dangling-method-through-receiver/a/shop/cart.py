class Cart:
    def __init__(self):
        self.lines = []

    def put(self, sku, quantity):
        self.lines.append((sku, quantity))


def demo():
    cart = Cart()
    cart.put("apple", 2)
    return cart
