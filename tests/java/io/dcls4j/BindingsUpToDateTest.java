package io.dcls4j;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fails when a header in native/include changed without regenerating bindings/ (see bindings/README.md). */
class BindingsUpToDateTest {
    @Test
    void everyHeaderHashMatchesTheOneRecordedWithTheBindings() throws Exception {
        List<Path> headers;
        try (Stream<Path> s = Files.list(Path.of("native/include"))) {
            headers = s.filter(p -> p.toString().endsWith(".h")).sorted().toList();
        }
        assertFalse(headers.isEmpty());
        for (Path header : headers) {
            String name = header.getFileName().toString();
            Path recordedFile = Path.of("bindings", name + ".sha256");
            assertTrue(Files.exists(recordedFile), "no bindings recorded for " + header
                    + ": run scripts/regenerate-bindings.sh (bindings/README.md)");
            String actual = HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(header)));
            String recorded = Files.readString(recordedFile).trim().split("\\s+")[0];
            assertEquals(recorded, actual, header + " changed since the bindings were generated:"
                    + " run scripts/regenerate-bindings.sh (bindings/README.md)");
        }
    }
}
