"""Items, the inventory that holds them, and a plain-text file format."""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY = "EUR"


@dataclass
class Item:
    sku: str
    name: str
    quantity: int
    unit_price: float


class Inventory:
    """Items by SKU."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def add(self, item: Item) -> None:
        existing = self.items.get(item.sku)
        if existing is None:
            self.items[item.sku] = item
        else:
            existing.quantity += item.quantity

    def remove(self, sku: str, quantity: int) -> None:
        item = self.items[sku]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} in stock")
        item.quantity -= quantity

    def total_value(self) -> float:
        return sum(i.quantity * i.unit_price for i in self.items.values())


def parse_line(line: str) -> Item:
    """One `sku;name;quantity;unit price` line."""
    sku, name, quantity, price = line.split(";")
    return Item(sku, name, int(quantity), float(price))


def load(text: str) -> Inventory:
    inventory = Inventory()
    for line in text.splitlines():
        if line.strip():
            inventory.add(parse_line(line))
    return inventory


def format_report(inventory: Inventory) -> str:
    lines = [f"{i.sku:8} {i.name:20} {i.quantity:5}" for i in inventory.items.values()]
    lines.append(f"total: {inventory.total_value():.2f} {CURRENCY}")
    return "\n".join(lines)
