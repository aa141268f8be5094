package shop;

public class Stock {
    private int count;

    public int take(int wanted) {
        int given = Math.min(count, wanted);
        count -= given;
        return given;
    }

    public int count() {
        return count;
    }
}
