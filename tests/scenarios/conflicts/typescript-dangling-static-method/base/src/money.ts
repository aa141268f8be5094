export class Money {
  private constructor(readonly cents: number) {}

  static fromCents(cents: number): Money {
    return new Money(Math.round(cents));
  }

  plus(other: Money): Money {
    return new Money(this.cents + other.cents);
  }
}
