package io.dcls4j.cli;

import io.dcls4j.Dcls;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** dcls4j's version, for {@code --version} and {@code info}. */
final class Versions implements CommandLine.IVersionProvider {
    private static final String POM_PROPERTIES = "/META-INF/maven/io.dcls4j/dcls4j/pom.properties";

    /** The Java library's version: from the jar's Maven descriptor, else the native library's, else "unknown". */
    static String dcls4j() {
        try (InputStream in = Versions.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null) {
                    return v;
                }
            }
        } catch (IOException ignored) {
            // fall through
        }
        try {
            return Dcls.nativeVersion();
        } catch (RuntimeException | LinkageError e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"dcls4j " + dcls4j()};
    }
}
