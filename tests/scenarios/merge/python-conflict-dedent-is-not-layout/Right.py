def ship(order, carrier):
    if order.paid:
        carrier.book(order)
        order.mark_shipped(notify=True)
    return order


def cancel(order):
    order.cancelled = True
    return order
