import { Cart } from "./cart";

export class Checkout {
  constructor(private readonly cart: Cart) {}

  label(): string {
    return `Total: ${(this.cart.total() / 100).toFixed(2)}`;
  }
}

export function emptyCart(): Cart {
  return new Cart();
}
