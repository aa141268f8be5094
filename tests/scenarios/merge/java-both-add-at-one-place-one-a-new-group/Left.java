package app;

import app.model.Item;
import app.util.Cache;

import static app.util.Matchers.named;

public class Advice {
    private final Cache cache = new Cache();

    boolean isCached(Item item) {
        return cache.has(item);
    }

    boolean isNamed(Item item) {
        return named(item);
    }
}
