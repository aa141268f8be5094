public class Shelf {
    int base = 0;

    int count() {
        int value = base + 10;
        return value;
    }

    int total() {
        int value = base + 2;
        return value;
    }

    int first() {
        int value = base + 3;
        return value;
    }
}
