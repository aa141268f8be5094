public class Main {
    static int first() {
        int value = 1;
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }
}
