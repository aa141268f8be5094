public class Main {
    static int alpha() {
        int value = 1;
        return value * 2;
    }

    static int beta() {
        int value = 2;
        return value;
    }
}
