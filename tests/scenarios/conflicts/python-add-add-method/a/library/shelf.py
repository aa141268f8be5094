"""A bookshelf that keeps its books in order."""

from dataclasses import dataclass, field


@dataclass
class Book:
    title: str
    author: str
    year: int


@dataclass
class Shelf:
    books: list[Book] = field(default_factory=list)

    def add(self, book: Book) -> None:
        self.books.append(book)
        self.books.sort(key=lambda b: (b.author, b.title))

    def by_author(self, author: str) -> list[Book]:
        return [b for b in self.books if b.author == author]

    def oldest(self) -> Book | None:
        return min(self.books, key=lambda b: b.year, default=None)

    def __len__(self) -> int:
        return len(self.books)
