package shop;

import org.junit.Test;

import static org.mockito.Mockito.*;

public class MatchersTest {
    private final Pricing mock = mock(Pricing.class);

    @Test
    public void nullMatcher() {
        when(mock.price(anyInt(), isNull())).thenReturn(1);
        verify(mock, never()).price(anyInt(), isNull());
    }
}
