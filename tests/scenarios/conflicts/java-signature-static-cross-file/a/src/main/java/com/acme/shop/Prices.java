package com.acme.shop;

/** Price arithmetic in cents. */
public final class Prices {
    private Prices() {
    }

    public static long withTax(long cents, double rate) {
        return Math.round(cents * (1 + rate));
    }
}
