package shop;

import java.util.ArrayList;
import java.util.List;

public class Cart {
    private final List<Double> prices = new ArrayList<>();

    public void add(double price) {
        prices.add(price);
    }

    public double sum() {
        double total = 0;
        for (double p : prices) {
            total += p;
        }
        return total;
    }

    public double total() {
        double cents = 0;
        for (double p : prices) {
            cents += Math.round(p * 100);
        }
        return cents / 100.0;
    }
}
