import { Item } from "./item";

export class Basket {
  private items: Item[] = [];

  add(item: Item): void {
    this.items.push(item);
  }

  total(): number {
    return this.items.reduce((sum, item) => sum + item.price, 0);
  }
}

export class Shelf {
  private slots = 4;

  capacity(): number {
    return this.slots;
  }
}

export function emptyBasket(): Basket {
  return new Basket();
}
