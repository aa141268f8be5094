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

  first(): number {
    const value = this.base + 3;
    return value;
  }

  last(): number {
    const value = this.base + 4;
    return value;
  }
}
