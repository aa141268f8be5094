package org.mockito.usage.verification;

public class VerificationAfterDelayTest {

    @Mock
    private Greeter mock;

    @Captor
    private ArgumentCaptor<String> stringCaptor;

    @Test
    public void shouldCaptureArgumentsAfterDelay() {
        mock.greet("0");

        verify(mock, after(50)).greet(stringCaptor.capture());
        assertThat(stringCaptor.getAllValues()).containsExactly("0");
    }

    @Test
    public void shouldCaptureOneValuePerCallInTimesVerification() {
        mock.greet("0");
        mock.greet("1");

        verify(mock, after(50).times(2)).greet(stringCaptor.capture());
        assertEquals(2, stringCaptor.getAllValues().size());
    }
}
