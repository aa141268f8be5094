"""The inventory's own tests (stdlib unittest: `python -m unittest discover -s tests`)."""

import unittest

from inventory.store import Inventory, Item, format_report, load

STOCK = "A1;apple;3;0.5\nB2;bread;1;2.0\n"


class StoreTest(unittest.TestCase):
    def test_load_reads_every_line(self) -> None:
        inventory = load(STOCK)
        self.assertEqual(sorted(inventory.items), ["A1", "B2"])
        self.assertEqual(inventory.items["A1"].quantity, 3)

    def test_adding_an_existing_item_adds_its_quantity(self) -> None:
        inventory = Inventory()
        inventory.add(Item("A1", "apple", 1, 0.5))
        inventory.add(Item("A1", "apple", 2, 0.5))
        self.assertEqual(inventory.items["A1"].quantity, 3)

    def test_total_value(self) -> None:
        self.assertAlmostEqual(load(STOCK).total_value(), 3.5)

    def test_report_ends_with_the_total(self) -> None:
        self.assertTrue(format_report(load(STOCK)).endswith("total: 3.50 EUR"))


if __name__ == "__main__":
    unittest.main()
