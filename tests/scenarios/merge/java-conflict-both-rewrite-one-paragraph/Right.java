package org.example.capture;

/**
 * Records the values a stub was called with.
 * <p>
 * Use it after the call under test has run.
 * <p>
 * This recorder does <b>no type checks</b>; the type parameter only saves
 * a cast in your test. Checks may come in a later major release.
 * <p>
 * The values are kept in the order of the calls.
 * <p>
 * See {@link Recorder#values()} for the list.
 */
public class Recorder<T> {
    private final java.util.List<T> seen = new java.util.ArrayList<>();

    public java.util.List<T> values() {
        return seen;
    }
}
