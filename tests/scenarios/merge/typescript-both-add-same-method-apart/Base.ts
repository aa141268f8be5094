export class Catalog {
  private items: Map<string, number> = new Map();

  price(name: string): number | undefined {
    return this.items.get(name);
  }

  add(name: string, price: number): void {
    this.items.set(name, price);
  }

  size(): number {
    return this.items.size;
  }
}
