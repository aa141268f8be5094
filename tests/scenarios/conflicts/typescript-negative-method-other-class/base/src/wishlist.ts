export class Wishlist {
  private skus = new Set<string>();

  save(sku: string): void {
    this.skus.add(sku);
  }

  clear(): void {
    this.skus.clear();
  }
}
