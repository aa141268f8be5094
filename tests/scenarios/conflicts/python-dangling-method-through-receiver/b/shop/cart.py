class Cart:
    def __init__(self):
        self.lines = []

    def add(self, sku, quantity):
        self.lines.append((sku, quantity))


def demo():
    cart = Cart()
    cart.add("apple", 2)
    return cart


def bulk(skus):
    cart = Cart()
    for sku in skus:
        cart.add(sku, 1)
    return cart
