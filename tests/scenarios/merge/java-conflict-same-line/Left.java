public class Main {
    static int alpha() {
        int value = 10;
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }
}
