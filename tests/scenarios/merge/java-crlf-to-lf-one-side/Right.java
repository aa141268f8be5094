package org.example;

public class Timing {
    /**
     * Waits, then verifies.
     * Uses the default timer.
     */
    public static Delay after(int millis) {
        return new After(millis, times(1));
    }

    public static Delay within(int millis) {
        return new Within(millis);
    }
}
