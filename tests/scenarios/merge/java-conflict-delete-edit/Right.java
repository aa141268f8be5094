public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }

    static int beta() {
        int value = 20;
        return value;
    }

    static int gamma() {
        int value = 3;
        return value;
    }
}
