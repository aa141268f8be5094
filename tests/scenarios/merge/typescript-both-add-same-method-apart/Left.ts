export class Catalog {
  private items: Map<string, number> = new Map();

  price(name: string): number | undefined {
    return this.items.get(name);
  }

  has(name: string): boolean {
    return this.items.has(name);
  }

  add(name: string, price: number): void {
    this.items.set(name, price);
  }

  size(): number {
    return this.items.size || 0;
  }
}
