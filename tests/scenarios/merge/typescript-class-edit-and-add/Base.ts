class Shelf {
  base = 0;

  count(): number {
    const value = this.base + 1;
    return value;
  }

  total(): number {
    const value = this.base + 2;
    return value;
  }
}
