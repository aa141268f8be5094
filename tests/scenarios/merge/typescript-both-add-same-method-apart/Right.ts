export class Catalog {
  private items: Map<string, number> = new Map();

  price(name: string): number | undefined {
    return this.items.get(name);
  }

  add(name: string, price: number): void {
    this.items.set(name.trim(), price);
  }

  has(name: string): boolean {
    return this.items.has(name);
  }

  size(): number {
    return this.items.size;
  }
}
