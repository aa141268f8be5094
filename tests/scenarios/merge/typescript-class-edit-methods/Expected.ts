class Shelf {
  base = 0;

  count(): number {
    const value = this.base + 10;
    return value;
  }

  total(): number {
    const value = this.base + 20;
    return value;
  }

  first(): number {
    const value = this.base + 3;
    return value;
  }
}
