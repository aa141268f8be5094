package com.acme.shop;

/** A warehouse that ships from its own shelves. */
public class Warehouse {
    private int shelves;

    public boolean reserve(String sku, int quantity) {
        return shelves > 0 && quantity > 0;
    }
}
