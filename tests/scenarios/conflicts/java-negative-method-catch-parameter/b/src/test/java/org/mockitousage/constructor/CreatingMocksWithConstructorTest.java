/*
 * Copyright (c) 2017 Mockito contributors
 * This program is made available under the terms of the MIT License.
 */
package org.mockitousage.constructor;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;
import static org.mockito.Mockito.CALLS_REAL_METHODS;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.withSettings;

import org.junit.Test;
import org.mockito.exceptions.base.MockitoException;
import org.mockito.mock.SerializableMode;

public class CreatingMocksWithConstructorTest {

    abstract static class AbstractMessage {
        private final String message;

        AbstractMessage() {
            this.message = "hey!";
        }

        String getMessage() {
            return message;
        }
    }

    static class Message extends AbstractMessage {}

    @Test
    public void can_create_mock_with_constructor() {
        Message mock =
                mock(
                        Message.class,
                        withSettings().useConstructor().defaultAnswer(CALLS_REAL_METHODS));
        // the message is a part of state of the mocked type that gets initialized in constructor
        assertEquals("hey!", mock.getMessage());
    }

    @Test
    public void explains_a_missing_constructor() {
        try {
            mock(Message.class, withSettings().useConstructor("no such").defaultAnswer(CALLS_REAL_METHODS));
            fail();
        } catch (MockitoException e) {
            assertEquals("Unable to create mock instance of type 'Message'", e.getMessage());
        }
    }

    @Test
    public void prevents_across_jvm_serialization_with_constructor() {
        try {
            // when
            mock(
                    AbstractMessage.class,
                    withSettings()
                            .useConstructor()
                            .serializable(SerializableMode.ACROSS_CLASSLOADERS));
            // then
            fail();
        } catch (MockitoException e) {
            assertEquals(
                    "Mocks instantiated with constructor cannot be combined with "
                            + SerializableMode.ACROSS_CLASSLOADERS
                            + " serialization mode.",
                    e.getMessage());
        }
    }
}
