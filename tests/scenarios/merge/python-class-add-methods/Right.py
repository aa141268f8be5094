class Shelf:
    base = 0

    def count(self):
        value = self.base + 1
        return value

    def total(self):
        value = self.base + 2
        return value

    def last(self):
        value = self.base + 4
        return value
