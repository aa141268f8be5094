package org.mockito.usage.verification;

public class VerificationAfterDelayTest {

    @Mock
    private Greeter mock;

    @Captor
    private ArgumentCaptor<String> captor;

    @Test
    public void shouldCaptureArgumentsAfterDelay() {
        mock.greet("0");

        verify(mock, after(50)).greet(captor.capture());
        assertThat(captor.getAllValues()).containsExactly("0");
    }
}
