public class Shelf {
    int base = 0;

    int count() {
        int value = base + 1;
        return value;
    }

    int total() {
        int value = base + 20;
        return value;
    }

    int first() {
        int value = base + 3;
        return value;
    }
}
