public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }

    static int delta() {
        int value = 4;
        return value;
    }
}
