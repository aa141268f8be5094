package shop;

public class Orders {
    private final int limit;

    public Orders(int limit) {
        this.limit = limit;
    }

    static class Cache {
        private int hits;

        int hits() {
            return hits;
        }

        void hit() {
            hits += 2;
        }
    }

    public int limit() {
        return limit;
    }
}
