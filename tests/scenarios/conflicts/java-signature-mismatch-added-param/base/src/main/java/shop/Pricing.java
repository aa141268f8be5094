package shop;

import java.util.List;

public final class Pricing {
    private static final double UNIT_PRICE = 4.5;

    private Pricing() {}

    static double price(int qty) {
        return qty * UNIT_PRICE;
    }

    public static double orderTotal(List<Integer> quantities) {
        double total = 0;
        for (int qty : quantities) {
            total += price(qty);
        }
        return total;
    }
}
