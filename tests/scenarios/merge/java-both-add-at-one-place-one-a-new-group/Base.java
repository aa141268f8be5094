package app;

import app.model.Item;
import app.util.Cache;

public class Advice {
    private final Cache cache = new Cache();

    boolean isCached(Item item) {
        return cache.has(item);
    }
}
