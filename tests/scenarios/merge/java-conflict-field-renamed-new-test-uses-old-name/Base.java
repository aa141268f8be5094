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
}
