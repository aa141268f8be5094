package com.acme.shop;

/** Counts page views. */
public class Counter {
    private long count;
    private long since;

    public void hit() {
        count++;
    }
}
