package com.acme.shop;

/** Price arithmetic in cents. */
public final class Prices {
    private Prices() {
    }

    public static long gross(long cents) {
        return Math.round(cents * 1.2);
    }
}
