class Shelf:
    base = 0

    def count(self):
        value = self.base + 10
        return value

    def total(self):
        value = self.base + 2
        return value

    def first(self):
        value = self.base + 3
        return value
