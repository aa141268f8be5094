public class Shelf {
    int base = 0;

    int count() {
        int value = base + 1;
        return value;
    }

    int total() {
        int value = base + 2;
        return value;
    }

    int last() {
        int value = base + 4;
        return value;
    }
}
