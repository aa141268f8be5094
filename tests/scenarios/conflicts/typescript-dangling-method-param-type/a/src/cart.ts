export interface Line {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export class Cart {
  private lines: Line[] = [];

  add(sku: string, quantity: number, unitPrice: number): void {
    const line = this.lines.find((l) => l.sku === sku);
    if (line) {
      line.quantity += quantity;
    } else {
      this.lines.push({ sku, quantity, unitPrice });
    }
  }

  remove(sku: string): void {
    this.lines = this.lines.filter((l) => l.sku !== sku);
  }

  subtotal(): number {
    return this.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  }

  clear(): void {
    this.lines = [];
  }
}
