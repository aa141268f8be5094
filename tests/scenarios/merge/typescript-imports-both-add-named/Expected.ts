import {
  Basket,
  Item,
  Price,
  Quantity,
} from "./model";

export function total(basket: Basket): number {
  return basket.items.reduce((sum: number, item: Item) => sum + item.price, 0);
}
