package com.acme.shop;

/** Counts page views. */
public class Counter {
    private long count;
    private long since;
    private long total;

    public void hit() {
        count++;
    }
}
