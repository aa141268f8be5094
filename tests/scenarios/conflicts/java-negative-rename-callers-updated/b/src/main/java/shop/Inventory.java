package shop;

import java.util.HashMap;
import java.util.Map;

public class Inventory {
    private final Map<String, Integer> stock = new HashMap<>();
    private final Map<String, Integer> reserved = new HashMap<>();

    private int countAvailable(String sku) {
        return stock.getOrDefault(sku, 0) - reserved.getOrDefault(sku, 0);
    }

    public boolean reserve(String sku, int qty) {
        if (countAvailable(sku) < qty) {
            return false;
        }
        reserved.merge(sku, qty, Integer::sum);
        return true;
    }

    public void restock(String sku, int qty) {
        stock.merge(sku, qty, Integer::sum);
    }
}
