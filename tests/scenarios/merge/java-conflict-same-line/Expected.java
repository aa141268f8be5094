public class Main {
    static int alpha() {
<<<<<<< left
        int value = 10;
||||||| base
        int value = 1;
=======
        int value = 11;
>>>>>>> right
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }
}
