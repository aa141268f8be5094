public class Main {
    // crdtspace dangling-reference: left renamed alpha to first, but right's new code in Main.omega uses it.
    static int first() {
        int value = 1;
        return value;
    }

    static int beta() {
        int value = 2;
        return value;
    }

    // crdtspace dangling-reference: left renamed alpha to first, but right's new code in Main.omega uses it.
    static int omega() {
        return alpha();
    }
}
