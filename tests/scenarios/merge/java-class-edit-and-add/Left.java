public class Shelf {
    int base = 0;

    int count() {
        int value = base + 1;
        return value * 2;
    }

    int total() {
        int value = base + 2;
        return value;
    }
}
