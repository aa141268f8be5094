package shop;

public class Orders {
    private final int limit;

    public Orders(int limit) {
        this.limit = limit;
    }

<<<<<<< left
||||||| base
    static class Cache {
        private int hits;

        int hits() {
            return hits;
        }

        void hit() {
            hits += 1;
        }
    }
=======
    static class Cache {
        private int hits;

        int hits() {
            return hits;
        }

        void hit() {
            hits += 2;
        }
    }
>>>>>>> right

    public int limit() {
        return Math.max(limit, 0);
    }
}
