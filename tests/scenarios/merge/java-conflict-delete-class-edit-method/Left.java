package shop;

public class Orders {
    private final int limit;

    public Orders(int limit) {
        this.limit = limit;
    }

    public int limit() {
        return Math.max(limit, 0);
    }
}
