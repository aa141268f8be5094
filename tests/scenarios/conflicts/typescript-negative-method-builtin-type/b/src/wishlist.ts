export class Wishlist {
  private skus = new Set<string>();

  save(sku: string): void {
    this.skus.add(sku);
  }

  replace(skus: string[]): void {
    this.skus.clear();
    const seen = new Set<string>(skus);
    seen.forEach((s) => this.skus.add(s));
    seen.clear();
  }

  clear(): void {
    this.skus.clear();
  }
}
