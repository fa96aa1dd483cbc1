package io.dcls4j;

import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One golden case computed by the PyTorch DCLS reference: its configuration ({@code NAME.json}) and arrays
 * ({@code NAME.npz}). See {@code README.md} in the golden directory for the meaning of every key.
 *
 * <p>The directory is the system property {@code dcls4j.golden.dir}, by default {@code ../shared/golden}
 * relative to the working directory. A missing directory is an error, not a reason to skip.
 */
public final class GoldenCase {

    /** The case's name, as listed in {@code index.json}. */
    public final String name;
    /** The parsed {@code NAME.json}: values are String, Boolean, Long, Double, List, Map or null. */
    public final Map<String, Object> config;
    /** The arrays of {@code NAME.npz}, keyed by name ({@code x}, {@code weight}, {@code P}, ...). */
    public final Map<String, NdArray> arrays;

    private GoldenCase(String name, Map<String, Object> config, Map<String, NdArray> arrays) {
        this.name = name;
        this.config = Collections.unmodifiableMap(config);
        this.arrays = Collections.unmodifiableMap(arrays);
    }

    /** The golden directory. */
    public static Path dir() {
        return Path.of(System.getProperty("dcls4j.golden.dir", "../shared/golden"));
    }

    /** Every case listed in {@code index.json}, loaded; fails if the directory or a file is missing. */
    public static List<GoldenCase> all() {
        return all(dir());
    }

    /** Every case listed in {@code dir/index.json} (a directory of the same layout), loaded. */
    public static List<GoldenCase> all(Path dir) {
        Path index = dir.resolve("index.json");
        if (!Files.isRegularFile(index)) {
            throw new IllegalStateException("golden cases not found: " + index.toAbsolutePath()
                    + " does not exist (set -Ddcls4j.golden.dir)");
        }
        List<GoldenCase> cases = new ArrayList<>();
        for (String name : names(dir)) {
            cases.add(load(dir, name));
        }
        return cases;
    }

    /** The case names listed in {@code index.json}. */
    public static List<String> names() {
        return names(dir());
    }

    private static List<String> names(Path dir) {
        Object index = Json.parse(readString(dir.resolve("index.json")));
        if (!(index instanceof Map<?, ?> map) || !(map.get("cases") instanceof List<?> list)) {
            throw new IllegalStateException("index.json has no \"cases\" list");
        }
        List<String> names = new ArrayList<>();
        for (Object o : list) {
            names.add((String) o);
        }
        if (names.isEmpty()) {
            throw new IllegalStateException("index.json lists no cases");
        }
        return names;
    }

    /** Loads one case by name. */
    @SuppressWarnings("unchecked")
    public static GoldenCase load(String name) {
        return load(dir(), name);
    }

    /** Loads one case by name from {@code dir}. */
    @SuppressWarnings("unchecked")
    public static GoldenCase load(Path dir, String name) {
        Path json = dir.resolve(name + ".json");
        Path npz = dir.resolve(name + ".npz");
        Object config = Json.parse(readString(json));
        if (!(config instanceof Map<?, ?>)) {
            throw new IllegalStateException(json + " is not a JSON object");
        }
        try {
            return new GoldenCase(name, (Map<String, Object>) config, Npz.read(npz));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String readString(Path path) {
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden file " + path.toAbsolutePath(), e);
        }
    }

    // --------------------------------------------------------------------------------------- config access

    private Object required(String key) {
        if (!config.containsKey(key)) {
            throw new IllegalArgumentException("golden case " + name + " has no config key '" + key + "'");
        }
        return config.get(key);
    }

    /** A list of integers, e.g. {@code dilated_kernel_size}, {@code stride}, {@code padding}. */
    public int[] intArray(String key) {
        List<?> list = (List<?>) required(key);
        int[] result = new int[list.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = Math.toIntExact((Long) list.get(i));
        }
        return result;
    }

    /** Whether the config has the key (with a non-null value), e.g. {@code dense_kernel_size}, {@code flat_dim}. */
    public boolean hasKey(String key) {
        return config.get(key) != null;
    }

    /** A string, e.g. {@code version}, {@code module}, {@code padding_mode}. */
    public String string(String key) {
        return (String) required(key);
    }

    /** An integer, e.g. {@code in_channels}, {@code kernel_count}, {@code groups}. */
    public int integer(String key) {
        return Math.toIntExact((Long) required(key));
    }

    /** A boolean, e.g. {@code bias}. */
    public boolean bool(String key) {
        return (Boolean) required(key);
    }

    /** The interpolation named by {@code version}. */
    public Interpolation interpolation() {
        return Interpolation.fromReferenceName(string("version"));
    }

    /** The padding mode named by {@code padding_mode} (zeros if absent). */
    public PaddingMode paddingMode() {
        return config.containsKey("padding_mode") ? PaddingMode.fromReferenceName(string("padding_mode"))
                : PaddingMode.ZEROS;
    }

    /** The number of spatial axes. */
    public int ndim() {
        return intArray("dilated_kernel_size").length;
    }

    // --------------------------------------------------------------------------------------- array access

    /** Whether the case has the array (e.g. {@code SIG}, {@code bias} may be absent). */
    public boolean has(String key) {
        return arrays.containsKey(key);
    }

    /** An array; fails if absent. */
    public NdArray array(String key) {
        NdArray a = arrays.get(key);
        if (a == null) {
            throw new IllegalArgumentException("golden case " + name + " has no array '" + key + "'");
        }
        return a;
    }

    /** An array's values, or null if the case has no such array. */
    public double[] data(String key) {
        NdArray a = arrays.get(key);
        return a == null ? null : a.data();
    }

    @Override
    public String toString() {
        return name;
    }

    // --------------------------------------------------------------------------------------- tiny JSON parser

    /** A minimal JSON parser for the golden configs: objects, arrays, strings, numbers, booleans, null. */
    static final class Json {
        private final String s;
        private int pos;

        private Json(String s) {
            this.s = s;
        }

        static Object parse(String text) {
            Json json = new Json(text);
            Object value = json.value();
            json.space();
            if (json.pos != text.length()) {
                throw json.error("trailing text");
            }
            return value;
        }

        private Object value() {
            space();
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{' -> {
                    return object();
                }
                case '[' -> {
                    return array();
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", pos)) {
                        pos += 4;
                        return Boolean.TRUE;
                    } else if (s.startsWith("false", pos)) {
                        pos += 5;
                        return Boolean.FALSE;
                    } else if (s.startsWith("null", pos)) {
                        pos += 4;
                        return null;
                    } else if (c == '-' || Character.isDigit(c)) {
                        return number();
                    }
                    throw error("unexpected character '" + c + "'");
                }
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++;
            space();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                space();
                String key = string();
                space();
                expect(':');
                map.put(key, value());
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return map;
                }
            }
        }

        private List<Object> array() {
            List<Object> list = new ArrayList<>();
            pos++;
            space();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                list.add(value());
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return list;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (peek() != '"') {
                char c = s.charAt(pos++);
                if (c == '\\') {
                    char e = s.charAt(pos++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u' -> {
                            sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                            pos += 4;
                        }
                        default -> sb.append(e); // \" \\ \/
                    }
                } else {
                    sb.append(c);
                }
            }
            pos++;
            return sb.toString();
        }

        private Object number() {
            int start = pos;
            while (pos < s.length() && "+-0123456789.eE".indexOf(s.charAt(pos)) >= 0) {
                pos++;
            }
            String text = s.substring(start, pos);
            if (text.contains(".") || text.contains("e") || text.contains("E")) {
                return Double.parseDouble(text);
            }
            return Long.parseLong(text);
        }

        private void space() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private char peek() {
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("bad JSON at character " + pos + ": " + what);
        }
    }
}
