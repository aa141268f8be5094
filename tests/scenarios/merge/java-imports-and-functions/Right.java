import java.util.List;
import java.util.Set;

public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }

    static int delta() {
        int value = 4;
        return value;
    }
}
