package org.example.timing;

public class PollerTest {

    @Test
    public void passes_when_check_passes() {
        Poller p = new Poller(1);
        p.run();
    }
}
