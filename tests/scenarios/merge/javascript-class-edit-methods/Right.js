class Shelf {
  base = 0;

  count() {
    const value = this.base + 1;
    return value;
  }

  total() {
    const value = this.base + 20;
    return value;
  }

  first() {
    const value = this.base + 3;
    return value;
  }
}
