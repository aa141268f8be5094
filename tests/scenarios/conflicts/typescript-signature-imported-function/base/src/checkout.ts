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
