import java.util.List;

public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }
}
