import java.util.List;
import java.util.Map;
import java.util.Set;

public class Main {
    static int alpha() {
        int value = 1;
        return value;
    }
}
