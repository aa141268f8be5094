package com.acme.shop;

import java.util.List;

/** Places orders against the inventory. */
public class OrderService {
    private final Inventory inventory;

    public OrderService(Inventory inventory) {
        this.inventory = inventory;
    }

    public boolean canPlace(String sku, int quantity) {
        return inventory.available(sku) >= quantity;
    }

    public int countAvailable(List<String> skus) {
        int n = 0;
        for (String sku : skus) {
            n += inventory.available(sku) > 0 ? 1 : 0;
        }
        return n;
    }

    public boolean place(String sku, int quantity) {
        return inventory.reserve(sku, quantity);
    }
}
