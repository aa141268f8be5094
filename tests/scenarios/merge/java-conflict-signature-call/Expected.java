public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }

    // crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in Main.omega uses the old ones.
    static int beta(int x) {
        int value = 2;
        return value;
    }

    // crdtspace signature-mismatch: left changed the parameters of beta, but right's new call in Main.omega uses the old ones.
    static int omega() {
        return beta();
    }
}
