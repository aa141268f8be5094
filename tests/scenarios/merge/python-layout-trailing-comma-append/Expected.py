from shop.models import Order


def build_order(customer, items):
    return Order(
        customer=customer,
        items=items,
        currency="EUR",
        discount=0,
    )


def empty_order(customer):
    return build_order(customer, [])
