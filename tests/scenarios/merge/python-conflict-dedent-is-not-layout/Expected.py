def ship(order, carrier):
    if order.paid:
        carrier.book(order)
<<<<<<< left
    order.mark_shipped()
||||||| base
        order.mark_shipped()
=======
        order.mark_shipped(notify=True)
>>>>>>> right
    return order


def cancel(order):
    order.cancelled = True
    return order
