package org.mockito.usage.verification;

public class VerificationAfterDelayTest {

    @Mock
    private Greeter mock;

    // crdtspace dangling-reference: left renamed stringCaptor to captor, but right's new code in VerificationAfterDelayTest.shouldCaptureOneValuePerCallInTimesVerification uses it.
    @Captor
    private ArgumentCaptor<String> captor;

    @Test
    public void shouldCaptureArgumentsAfterDelay() {
        mock.greet("0");

        verify(mock, after(50)).greet(captor.capture());
        assertThat(captor.getAllValues()).containsExactly("0");
    }

    // crdtspace dangling-reference: left renamed stringCaptor to captor, but right's new code in VerificationAfterDelayTest.shouldCaptureOneValuePerCallInTimesVerification uses it.
    @Test
    public void shouldCaptureOneValuePerCallInTimesVerification() {
        mock.greet("0");
        mock.greet("1");

        verify(mock, after(50).times(2)).greet(stringCaptor.capture());
        assertEquals(2, stringCaptor.getAllValues().size());
    }
}
