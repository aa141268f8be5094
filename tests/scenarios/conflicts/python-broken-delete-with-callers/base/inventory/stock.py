"""Stock levels by SKU."""


def reserve(stock, sku, qty):
    if stock.get(sku, 0) < qty:
        raise ValueError(f"not enough {sku}")
    stock[sku] -= qty


def release(stock, sku, qty):
    stock[sku] = stock.get(sku, 0) + qty


def restock(stock, deliveries):
    for sku, qty in deliveries:
        stock[sku] = stock.get(sku, 0) + qty
    return stock


def cancel(stock, order):
    for sku, qty in order.lines:
        release(stock, sku, qty)
