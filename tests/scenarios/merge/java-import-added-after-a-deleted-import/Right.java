package app;

import app.model.Item;
import app.model.Store;

import static app.util.Checks.requireOpen;
import static app.util.Notify.notifyLookup;
import static app.util.Log.log;

public class Handler {
    private final Store store;

    Handler(Store store) {
        this.store = store;
    }

    void handle(Item item) {
        requireOpen(store);
        log("handle", item);
        store.add(item);
        notifyLookup(item);
    }
}
