public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }

<<<<<<< left
||||||| base
    static int beta() {
        int value = 2;
        return value;
    }
=======
    static int beta() {
        int value = 20;
        return value;
    }
>>>>>>> right

    static int gamma() {
        int value = 3;
        return value;
    }
}
