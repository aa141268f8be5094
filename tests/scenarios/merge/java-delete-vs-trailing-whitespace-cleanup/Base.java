package org.example.timing;

public class PollerTest {

    @Test
    public void passes_when_check_passes() {
        Poller p = new Poller(1, 3);
        p.run();
    }
    
    @Test
    public void builds_a_configured_poller() {
        Poller p = new Poller(25, 50);
        
        check(p.period(), 50);
    }
}
