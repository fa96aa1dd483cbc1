package io.dcls4j.internal;

import io.dcls4j.Dcls;

/** Started in a separate JVM by {@link NativeLibraryTest}: loads the native library and prints what it found. */
public final class LoadProbe {
    private LoadProbe() {}

    public static void main(String[] args) {
        System.out.println("oneDNN " + Dcls.oneDnnVersion() + " from " + Dcls.libraryLocation());
    }
}
