package shop;

public class Stock {
    private int count;

    public int take(int wanted) {
      int given = Math.min(count, Math.max(wanted, 0));
      count -= given;
      return given;
    }

    public int count() {
        return count;
    }
}
