"""A tiny stock-keeping library."""

from inventory.store import Inventory, Item, load

__all__ = ["Inventory", "Item", "load"]
