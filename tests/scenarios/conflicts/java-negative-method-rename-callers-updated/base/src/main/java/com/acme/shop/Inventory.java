package com.acme.shop;

import java.util.HashMap;
import java.util.Map;

/** Units in stock per SKU. */
public class Inventory {
    private final Map<String, Integer> stock = new HashMap<>();

    public int available(String sku) {
        return stock.getOrDefault(sku, 0);
    }

    public void restock(String sku, int quantity) {
        stock.merge(sku, quantity, Integer::sum);
    }

    public boolean reserve(String sku, int quantity) {
        int left = available(sku);
        if (left < quantity) {
            return false;
        }
        stock.put(sku, left - quantity);
        return true;
    }

    public void clear() {
        stock.clear();
    }
}
