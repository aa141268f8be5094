package app;

import app.model.Item;
import app.util.Cache;
import app.util.Access;

import static app.util.Matchers.named;

public class Advice {
    private final Cache cache = new Cache();

    boolean isCached(Item item) {
        return cache.has(item);
    }

    boolean isNamed(Item item) {
        return named(item);
    }

    boolean isOpen(Item item) {
        return Access.open(item);
    }
}
