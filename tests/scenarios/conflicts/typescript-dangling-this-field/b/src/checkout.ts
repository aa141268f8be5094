import { Cart } from "./cart";
import { formatPrice } from "./format";

export class Checkout {
  constructor(private readonly cart: Cart) {}

  cancel(): void {
    this.cart.clear();
  }

  label(): string {
    return `Total: ${formatPrice(this.cart.total())}`;
  }
}

export function emptyCart(): Cart {
  return new Cart();
}
