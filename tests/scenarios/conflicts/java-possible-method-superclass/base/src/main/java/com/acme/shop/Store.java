package com.acme.shop;

/** What every store of goods can do. */
public abstract class Store {
    public abstract int available(String sku);
}
