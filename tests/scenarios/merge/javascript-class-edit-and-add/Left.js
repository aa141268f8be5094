class Shelf {
  base = 0;

  count() {
    const value = this.base + 1;
    return value * 2;
  }

  total() {
    const value = this.base + 2;
    return value;
  }
}
