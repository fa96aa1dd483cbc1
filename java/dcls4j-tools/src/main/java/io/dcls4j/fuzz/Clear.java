package io.dcls4j.fuzz;

import io.dcls4j.DclsException;

import java.io.IOException;

/** What counts as a clear refusal: the documented exception types, with a message. */
final class Clear {
    private Clear() {}

    /** IllegalArgumentException, IllegalStateException, DclsException, or (for files) an IOException; with a message. */
    static boolean isClear(Throwable t, boolean files) {
        boolean type = t instanceof IllegalArgumentException || t instanceof IllegalStateException
                || t instanceof DclsException || (files && t instanceof IOException);
        String m = t.getMessage();
        // a message ending in ": null" is an exception's missing message pasted in
        return type && m != null && !m.isBlank() && !m.strip().equals("null") && !m.endsWith(": null");
    }

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /** The call must throw {@code type} (with a message); anything else is passed on for classification. */
    static void refused(Call call, Class<? extends Throwable> type) throws Exception {
        try {
            call.run();
        } catch (Exception e) {
            if (type.isInstance(e) && e.getMessage() != null && !e.getMessage().isBlank()) {
                return;
            }
            throw e;
        }
        throw new Wrong("expected " + type.getSimpleName() + ", the call went through");
    }
}
