import { Cart } from "./cart";
import { formatPrice } from "./format";

export class Checkout {
  constructor(private readonly cart: Cart) {}

  label(): string {
    return `Total: ${formatPrice(this.cart.total())}`;
  }
}

export function emptyCart(): Cart {
  return new Cart();
}

export function grandTotal(amounts: number[]): number {
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return total(amounts);
}
