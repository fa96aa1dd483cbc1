package io.dcls4j.internal;

import io.dcls4j.ops.ConvConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The most native memory one layer, one convolution plan or one tensor may take, checked before anything
 * is allocated: a configuration beyond it fails at once with its size, instead of allocating (and zeroing)
 * for minutes or being killed by the operating system. The limit is the system property
 * {@value #PROPERTY} (bytes, or with a suffix k, m, g, t: {@code -Ddcls4j.memoryLimit=64g}), read at each
 * check; by default half of the machine's physical memory (the rest is the JVM's heap, the caller's
 * tensors and everything else).
 */
public final class MemoryBudget {
    /** The system property that sets the limit. */
    public static final String PROPERTY = "dcls4j.memoryLimit";
    private static final long PHYSICAL = physicalMemory();

    private MemoryBudget() {}

    /** The limit in bytes. */
    public static long limit() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return PHYSICAL / 2;
        }
        return parse(value.trim());
    }

    /** Throws {@link IllegalArgumentException} naming {@code what} and both sizes if {@code bytes} passes the limit. */
    public static void require(String what, long bytes) {
        long limit = limit();
        if (bytes > limit) {
            String source = System.getProperty(PROPERTY) == null
                    ? "half of this machine's " + format(PHYSICAL) + " of memory" : "-D" + PROPERTY;
            throw new IllegalArgumentException(what + " needs " + format(bytes) + " of memory, over the limit of "
                    + format(limit) + " (" + source + "; set the system property " + PROPERTY
                    + ", e.g. -D" + PROPERTY + "=64g, to change it)");
        }
    }

    /** a * b * ..., saturating at Long.MAX_VALUE instead of overflowing. */
    public static long product(long... factors) {
        long p = 1;
        for (long f : factors) {
            if (f != 0 && p > Long.MAX_VALUE / f) {
                return Long.MAX_VALUE;
            }
            p *= f;
        }
        return p;
    }

    /** a + b, saturating. */
    public static long sum(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }

    /**
     * Native bytes a convolution plan of {@code c} may hold, an upper estimate: the padded input and the
     * output in the primitive's layout, a copy of the kernel, plus the output and input gradient a layer
     * keeps per shape.
     */
    public static long convolutionBytes(ConvConfig c) {
        long padded = 1;
        long in = 1;
        long out = 1;
        long kernel = 1;
        int[] size = c.inputSize();
        int[] pad = c.padding();
        int[] k = c.kernelSize();
        int[] s = c.stride();
        for (int d = 0; d < size.length; d++) {
            long p = size[d] + 2L * pad[d];
            padded = product(padded, p);
            in = product(in, size[d]);
            out = product(out, (p - k[d]) / s[d] + 1);
            kernel = product(kernel, k[d]);
        }
        long x = product(c.batch(), c.inChannels(), sum(padded, in));
        long y = product(c.batch(), c.outChannels(), out, 2);
        long w = product(c.outChannels(), c.inPerGroup(), kernel, 2);
        return product(sum(sum(x, y), w), Float.BYTES);
    }

    /**
     * Checks the native memory of a layer (parameters, their gradients, the dense kernel and its gradient)
     * against the limit, before any of it is allocated.
     */
    public static void requireLayer(int inChannels, int outChannels, int groups, int kernelCount,
                                    int[] dilatedKernelSize, boolean sigma, boolean bias, boolean ownPositions) {
        long weight = product(outChannels, inChannels / groups, kernelCount);
        long positions = ownPositions ? product(weight, dilatedKernelSize.length, sigma ? 2 : 1) : 0;
        long kernel = product(outChannels, inChannels / groups);
        for (int size : dilatedKernelSize) {
            kernel = product(kernel, size);
        }
        long floats = sum(sum(sum(weight, positions), bias ? outChannels : 0), kernel);
        require("a DCLS layer " + inChannels + " -> " + outChannels + " (groups " + groups + ", kernelCount "
                + kernelCount + ", dilatedKernelSize " + java.util.Arrays.toString(dilatedKernelSize) + ")",
                product(floats, 2, Float.BYTES)); // values and gradients
    }

    /** "1.5 GiB", "12.0 MiB", "640 bytes". */
    public static String format(long bytes) {
        if (bytes == Long.MAX_VALUE) {
            return "more than 8 EiB";
        }
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return bytes + " bytes";
    }

    private static long parse(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = v.charAt(v.length() - 1);
        int shift = switch (last) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        if (shift > 0) {
            unit = 1L << shift;
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return product(n, unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property " + PROPERTY + " must be a byte count such as"
                    + " 8589934592 or 8g, got '" + value + "'");
        }
    }

    /** MemTotal from /proc/meminfo, or Long.MAX_VALUE where there is none (then only -D limits). */
    private static long physicalMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    String[] parts = line.trim().split("\\s+");
                    return Long.parseLong(parts[1]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: no machine limit
        }
        return Long.MAX_VALUE;
    }
}
