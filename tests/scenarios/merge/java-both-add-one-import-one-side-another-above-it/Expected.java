package org.mockito.internal.progress;

import org.mockito.invocation.Invocation;
import org.mockito.invocation.Location;
import org.mockito.stubbing.OngoingStubbing;
import org.mockito.listeners.StubbingListener;
import org.mockito.verification.VerificationMode;

public class MockingProgressImpl implements MockingProgress {

    private final ArgumentMatcherStorage argumentMatcherStorage = new ArgumentMatcherStorageImpl();

    private Localized<VerificationMode> verificationMode;
    private Location stubbingInProgress = null;
    private MockingProgressListener listener;
    private VerificationStrategy verificationStrategy;

    public MockingProgressImpl() {
        this.verificationStrategy = getDefaultVerificationStrategy();
    }
    private StubbingListener stubbingListener;

    public void reset() {
        stubbingInProgress = null;
        verificationMode = null;
    }
}
