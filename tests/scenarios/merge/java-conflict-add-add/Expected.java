public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }

<<<<<<< left
    static int gamma() {
        int value = 3;
        return value;
    }
||||||| base
=======
    static int gamma() {
        int value = 33;
        return value;
    }
>>>>>>> right
}
