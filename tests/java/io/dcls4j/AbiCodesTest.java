package io.dcls4j;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java enums carry the C ABI's values as native/include/dcls.h spells them, read here from the header's text
 * (not from the bindings the enums use), so a reordered or renumbered constant fails this test.
 */
class AbiCodesTest {
    private static Map<String, Integer> headerConstants() throws Exception {
        String header = Files.readString(Path.of("native/include/dcls.h"));
        Matcher m = Pattern.compile("\\b(DCLS_[A-Z0-9_]+)\\s*=\\s*(-?\\d+)").matcher(header);
        Map<String, Integer> values = new HashMap<>();
        while (m.find()) {
            values.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        return values;
    }

    @Test
    void interpolationCodesAreTheHeaders() throws Exception {
        Map<String, Integer> h = headerConstants();
        for (Interpolation i : Interpolation.values()) {
            Integer v = h.get("DCLS_INTERPOLATION_" + i.name());
            assertTrue(v != null, "dcls.h has no DCLS_INTERPOLATION_" + i.name());
            assertEquals(v, i.code(), i.name());
        }
    }

    @Test
    void paddingModeCodesAreTheHeaders() throws Exception {
        Map<String, Integer> h = headerConstants();
        for (PaddingMode p : PaddingMode.values()) {
            assertEquals(h.get("DCLS_PADDING_" + p.name()), p.code(), p.name());
        }
    }

    @Test
    void everyNativeStatusMapsByValue() throws Exception {
        Map<String, Integer> h = headerConstants();
        int errors = 0;
        for (Map.Entry<String, Integer> e : h.entrySet()) {
            if (e.getKey().startsWith("DCLS_ERROR_")) {
                errors++;
                DclsException.Status s = DclsException.Status.of(e.getValue());
                assertEquals(e.getKey().substring("DCLS_ERROR_".length()), s.name(), e.getKey());
                DclsException ex = new DclsException(e.getValue(), "m");
                assertEquals(s, ex.status());
                assertEquals((int) e.getValue(), ex.statusCode());
            }
        }
        assertTrue(errors >= 4, "found " + errors + " DCLS_ERROR_ constants");
        assertEquals(DclsException.Status.UNKNOWN, new DclsException(77, "m").status());
    }
}
