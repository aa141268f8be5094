class Shelf {
  base = 0;

  count() {
    const value = this.base + 1;
    return value * 2;
  }

  last() {
    const value = this.base + 4;
    return value;
  }

  total() {
    const value = this.base + 2;
    return value;
  }
}
