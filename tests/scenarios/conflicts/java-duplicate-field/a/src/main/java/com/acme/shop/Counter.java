package com.acme.shop;

/** Counts page views. */
public class Counter {
    private long total;
    private long since;

    public void hit() {
        total++;
    }
}
