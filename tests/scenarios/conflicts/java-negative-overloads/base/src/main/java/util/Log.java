package util;

import java.io.PrintStream;

public class Log {
    private final PrintStream out;

    public Log(PrintStream out) {
        this.out = out;
    }

    public void log(String message) {
        out.println(message);
    }
}
