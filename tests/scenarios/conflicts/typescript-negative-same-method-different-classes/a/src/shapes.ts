// Shapes for the layout engine.

export class Circle {
  constructor(private radius: number) {}

  surface(): number {
    return Math.PI * this.radius ** 2;
  }

  describe(): string {
    return `circle of area ${this.surface().toFixed(1)}`;
  }
}

export class Square {
  constructor(private side: number) {}

  area(): number {
    return this.side * this.side;
  }
}
