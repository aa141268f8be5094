package com.google.gson.internal.bind;

import java.net.URI;
import java.net.URL;
import java.security.AccessController;
import java.security.PrivilegedAction;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.BitSet;

public final class TypeAdapters {
  private TypeAdapters() {
    throw new UnsupportedOperationException();
  }
}
