public class Main {
    static int gamma() {
        int value = 3;
        return value;
    }

    static int alpha() {
        int value = 1;
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }
}
