package io.dcls4j;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Fails when a C header changed without regenerating bindings/ (see bindings/README.md). */
class BindingsUpToDateTest {
    @Test
    void headerHashMatchesTheOneRecordedWithTheBindings() throws Exception {
        check("dcls.h");
    }

    @Test
    void nnHeaderHashMatchesTheOneRecordedWithTheBindings() throws Exception {
        check("dcls_nn.h");
    }

    private static void check(String name) throws Exception {
        byte[] header = Files.readAllBytes(Path.of("native/include/" + name));
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(header));
        String recorded = Files.readString(Path.of("bindings/" + name + ".sha256")).trim().split("\\s+")[0];
        assertEquals(recorded, actual, "native/include/" + name + " changed since the bindings were generated:"
                + " regenerate them with jextract as bindings/README.md says, and update bindings/" + name + ".sha256");
    }
}
