package io.dcls4j.io;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes single arrays in NumPy's {@code .npy} format
 * (<a href="https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html">numpy.lib.format</a>).
 *
 * <p>Reading accepts format versions 1.0, 2.0 and 3.0, C or Fortran order (Fortran-order arrays are reordered to
 * C order, as {@code numpy.load} presents them), and the element types float64, float32,
 * float16, signed and unsigned integers of 1 to 8 bytes and bool, in either byte order; all are converted to
 * double (64-bit integers beyond 2^53 lose precision). Writing produces version 1.0 (2.0 if the header would not
 * fit), little-endian {@code <f8} or {@code <f4}, with the header padded so that the data starts at a multiple of
 * 64 bytes, exactly as NumPy does. One array may hold at most {@code Integer.MAX_VALUE - 8} bytes of data.
 *
 * <p>Malformed or truncated input is reported as an {@link IOException} naming the problem.
 */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ARRAY_ALIGN = 64;
    private static final int MAX_HEADER_LENGTH = 1 << 20;
    private static final int MAX_DATA_BYTES = Integer.MAX_VALUE - 8;
    private static final int CHUNK_VALUES = 8192;

    private Npy() {
    }

    // ------------------------------------------------------------------------------------------------- reading

    /** Reads a {@code .npy} file. */
    public static NdArray read(Path path) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path))) {
            return readEntire(in);
        } catch (IOException e) {
            throw new IOException(path + ": " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        }
    }

    /**
     * Reads one array that must fill the rest of the stream: data beyond what the header declares (a
     * header of {@code <f4} over float64 data, say) is an error, not silently dropped.
     */
    public static NdArray readEntire(InputStream in) throws IOException {
        Parsed p = readParsed(in);
        long extra = in.transferTo(OutputStream.nullOutputStream());
        if (extra > 0) {
            throw new IOException("the .npy header declares " + p.dataBytes + " bytes of data (shape "
                    + Arrays.toString(p.array.shape()) + " of " + p.descr + "), but " + (p.dataBytes + extra)
                    + " bytes follow it");
        }
        return p.array;
    }

    /** Reads one array from the stream, leaving the stream just past the array's data. */
    public static NdArray read(InputStream in) throws IOException {
        return readParsed(in).array;
    }

    private record Parsed(NdArray array, long dataBytes, String descr) {
    }

    private static Parsed readParsed(InputStream in) throws IOException {
        byte[] prefix = readFully(in, MAGIC.length + 2, "magic string and version");
        if (!Arrays.equals(Arrays.copyOf(prefix, MAGIC.length), MAGIC)) {
            throw new IOException("not a .npy file: bad magic string");
        }
        int major = prefix[6] & 0xff;
        int minor = prefix[7] & 0xff;
        long headerLength;
        if (major == 1) {
            byte[] len = readFully(in, 2, "header length");
            headerLength = (len[0] & 0xff) | (len[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] len = readFully(in, 4, "header length");
            headerLength = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        } else {
            throw new IOException("unsupported .npy format version " + major + "." + minor);
        }
        if (headerLength > MAX_HEADER_LENGTH) {
            throw new IOException("implausible .npy header length " + headerLength);
        }
        byte[] headerBytes = readFully(in, (int) headerLength, "header");
        String header = new String(headerBytes,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = parseHeader(header);

        long count = 1;
        for (long size : h.shape) {
            count = multiplyChecked(count, size);
        }
        long byteCount = multiplyChecked(count, h.type.size);
        if (byteCount > MAX_DATA_BYTES) {
            throw new IOException("array of shape " + Arrays.toString(h.shape) + " (" + byteCount
                    + " bytes) is too large to read into a Java array");
        }
        // readNBytes allocates as data arrives, so a corrupt header claiming a huge shape cannot exhaust memory.
        byte[] raw = in.readNBytes((int) byteCount);
        if (raw.length < byteCount) {
            throw new IOException("truncated .npy data: shape " + Arrays.toString(h.shape) + " of " + h.descr
                    + " needs " + byteCount + " bytes, found " + raw.length);
        }
        double[] values = h.type.decode(ByteBuffer.wrap(raw).order(h.order), (int) count);
        return new Parsed(new NdArray(h.shape, h.fortranOrder ? fortranToC(values, h.shape) : values), byteCount,
                h.descr);
    }

    /** Reorders values stored in Fortran (column-major) order into C (row-major) order. */
    private static double[] fortranToC(double[] fortran, long[] shape) {
        int ndim = shape.length;
        if (ndim < 2) {
            return fortran;
        }
        long[] fortranStride = new long[ndim];
        long stride = 1;
        for (int d = 0; d < ndim; d++) {
            fortranStride[d] = stride;
            stride *= shape[d];
        }
        double[] c = new double[fortran.length];
        long[] idx = new long[ndim]; // multi-index of c[i], advanced in C order
        for (int i = 0; i < c.length; i++) {
            long offset = 0;
            for (int d = 0; d < ndim; d++) {
                offset += idx[d] * fortranStride[d];
            }
            c[i] = fortran[(int) offset];
            for (int d = ndim - 1; d >= 0 && ++idx[d] == shape[d]; d--) {
                idx[d] = 0;
            }
        }
        return c;
    }

    private static long multiplyChecked(long a, long b) throws IOException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new IOException("array size overflows");
        }
    }

    private static byte[] readFully(InputStream in, int n, String what) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length < n) {
            throw new EOFException("truncated .npy file: unexpected end of data in the " + what);
        }
        return bytes;
    }

    /** The element types that can be read. */
    private enum Type {
        FLOAT64('f', 8), FLOAT32('f', 4), FLOAT16('f', 2),
        INT64('i', 8), INT32('i', 4), INT16('i', 2), INT8('i', 1),
        UINT64('u', 8), UINT32('u', 4), UINT16('u', 2), UINT8('u', 1),
        BOOL('b', 1);

        final char kind;
        final int size;

        Type(char kind, int size) {
            this.kind = kind;
            this.size = size;
        }

        static Type of(char kind, int size) {
            for (Type t : values()) {
                if (t.kind == kind && t.size == size) {
                    return t;
                }
            }
            return null;
        }

        double[] decode(ByteBuffer b, int count) {
            double[] v = new double[count];
            switch (this) {
                case FLOAT64 -> b.asDoubleBuffer().get(v);
                case FLOAT32 -> { for (int i = 0; i < count; i++) v[i] = b.getFloat(); }
                case FLOAT16 -> { for (int i = 0; i < count; i++) v[i] = Float.float16ToFloat(b.getShort()); }
                case INT64 -> { for (int i = 0; i < count; i++) v[i] = b.getLong(); }
                case INT32 -> { for (int i = 0; i < count; i++) v[i] = b.getInt(); }
                case INT16 -> { for (int i = 0; i < count; i++) v[i] = b.getShort(); }
                case INT8 -> { for (int i = 0; i < count; i++) v[i] = b.get(); }
                case UINT64 -> {
                    for (int i = 0; i < count; i++) {
                        long x = b.getLong();
                        v[i] = x >= 0 ? x : (double) (x >>> 1) * 2.0 + (x & 1);
                    }
                }
                case UINT32 -> { for (int i = 0; i < count; i++) v[i] = b.getInt() & 0xffffffffL; }
                case UINT16 -> { for (int i = 0; i < count; i++) v[i] = b.getShort() & 0xffff; }
                case UINT8 -> { for (int i = 0; i < count; i++) v[i] = b.get() & 0xff; }
                case BOOL -> { for (int i = 0; i < count; i++) v[i] = b.get() != 0 ? 1 : 0; }
            }
            return v;
        }
    }

    private record Header(String descr, Type type, ByteOrder order, long[] shape, boolean fortranOrder) {
    }

    private static Header parseHeader(String text) throws IOException {
        Object parsed = new LiteralParser(text).parseHeaderDict();
        if (!(parsed instanceof Map<?, ?> dict)) {
            throw new IOException("malformed .npy header: not a dictionary: " + text.strip());
        }
        Object descr = dict.get("descr");
        Object fortran = dict.get("fortran_order");
        Object shape = dict.get("shape");
        if (descr == null || fortran == null || shape == null) {
            throw new IOException("malformed .npy header: needs the keys descr, fortran_order and shape: "
                    + text.strip());
        }
        if (!(descr instanceof String d)) {
            throw new IOException("unsupported .npy dtype " + descr + ": structured arrays are not supported");
        }
        if (!(fortran instanceof Boolean f)) {
            throw new IOException("malformed .npy header: fortran_order is not a boolean: " + fortran);
        }
        if (!(shape instanceof List<?> dims)) {
            throw new IOException("malformed .npy header: shape is not a tuple: " + shape);
        }
        long[] sizes = new long[dims.size()];
        for (int i = 0; i < sizes.length; i++) {
            if (!(dims.get(i) instanceof Long size) || size < 0) {
                throw new IOException("malformed .npy header: bad shape " + shape);
            }
            sizes[i] = size;
        }
        if (d.length() < 3) {
            throw new IOException("unsupported .npy dtype '" + d + "'");
        }
        char orderChar = d.charAt(0);
        ByteOrder order = switch (orderChar) {
            case '<', '|' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            case '=' -> ByteOrder.nativeOrder();
            default -> throw new IOException("unsupported .npy dtype '" + d + "'");
        };
        Type type = null;
        try {
            type = Type.of(d.charAt(1), Integer.parseInt(d.substring(2)));
        } catch (NumberFormatException e) {
            // reported below
        }
        if (type == null) {
            throw new IOException("unsupported .npy dtype '" + d
                    + "': expected float (f2, f4, f8), signed or unsigned integer or bool");
        }
        return new Header(d, type, order, sizes, f);
    }

    /**
     * Parses the Python literal of a {@code .npy} header: a dict with string keys whose values are strings,
     * booleans, integers, or tuples/lists of those.
     */
    private static final class LiteralParser {
        private final String s;
        private int pos;

        LiteralParser(String s) {
            this.s = s;
        }

        Object parseHeaderDict() throws IOException {
            Object value = parseValue();
            skipSpace();
            if (pos != s.length()) {
                throw error("unexpected text after the dictionary");
            }
            return value;
        }

        private Object parseValue() throws IOException {
            skipSpace();
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(pos);
            if (c == '{') {
                return parseDict();
            } else if (c == '(' || c == '[') {
                return parseSequence(c == '(' ? ')' : ']');
            } else if (c == '\'' || c == '"') {
                return parseString();
            } else if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            } else if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            } else if (c == '-' || Character.isDigit(c)) {
                return parseInteger();
            }
            throw error("unexpected character '" + c + "'");
        }

        private Map<String, Object> parseDict() throws IOException {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++; // '{'
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return map;
                }
                Object key = parseValue();
                if (!(key instanceof String k)) {
                    throw error("dictionary key is not a string");
                }
                skipSpace();
                expect(':');
                map.put(k, parseValue());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> parseSequence(char close) throws IOException {
            List<Object> list = new ArrayList<>();
            pos++; // '(' or '['
            while (true) {
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return list;
                }
                list.add(parseValue());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != close) {
                    throw error("expected ',' or '" + close + "'");
                }
            }
        }

        private String parseString() throws IOException {
            char quote = s.charAt(pos++);
            StringBuilder sb = new StringBuilder();
            while (pos < s.length() && s.charAt(pos) != quote) {
                char c = s.charAt(pos++);
                if (c == '\\' && pos < s.length()) {
                    c = s.charAt(pos++);
                }
                sb.append(c);
            }
            if (pos >= s.length()) {
                throw error("unterminated string");
            }
            pos++; // closing quote
            return sb.toString();
        }

        private Long parseInteger() throws IOException {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                pos++;
            }
            String digits = s.substring(start, pos);
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++; // Python 2 long suffix
            }
            try {
                return Long.parseLong(digits);
            } catch (NumberFormatException e) {
                throw error("bad integer '" + digits + "'");
            }
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private char peek() throws IOException {
            if (pos >= s.length()) {
                throw error("unexpected end");
            }
            return s.charAt(pos);
        }

        private void expect(char c) throws IOException {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private IOException error(String what) {
            return new IOException("malformed .npy header at character " + pos + ": " + what + ": " + s.strip());
        }
    }

    // ------------------------------------------------------------------------------------------------- writing

    /** Writes one array as a {@code .npy} file, little-endian float32 ({@code <f4}) or float64 ({@code <f8}). */
    public static void write(Path path, NdArray array, boolean float32) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path))) {
            write(out, array, float32);
        }
    }

    /** Writes one array in {@code .npy} format to the stream (which is not closed). */
    public static void write(OutputStream out, NdArray array, boolean float32) throws IOException {
        out.write(header(array.shape(), float32));
        double[] data = array.data();
        int itemSize = float32 ? 4 : 8;
        ByteBuffer buffer = ByteBuffer.allocate(CHUNK_VALUES * itemSize).order(ByteOrder.LITTLE_ENDIAN);
        for (int start = 0; start < data.length; start += CHUNK_VALUES) {
            int end = Math.min(data.length, start + CHUNK_VALUES);
            buffer.clear();
            for (int i = start; i < end; i++) {
                if (float32) {
                    buffer.putFloat((float) data[i]);
                } else {
                    buffer.putDouble(data[i]);
                }
            }
            out.write(buffer.array(), 0, buffer.position());
        }
    }

    /** The number of bytes {@link #write(OutputStream, NdArray, boolean)} writes. */
    public static long byteSize(NdArray array, boolean float32) {
        return header(array.shape(), float32).length + (long) array.size() * (float32 ? 4 : 8);
    }

    /** The magic string, version, header length and header, padded as NumPy does to a multiple of 64 bytes. */
    static byte[] header(long[] shape, boolean float32) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(float32 ? "<f4" : "<f8")
                .append("', 'fortran_order': False, 'shape': (");
        for (int d = 0; d < shape.length; d++) {
            if (d > 0) {
                dict.append(", ");
            }
            dict.append(shape[d]);
        }
        dict.append(shape.length == 1 ? ",), }" : "), }");
        // NumPy leaves room for the first axis to grow to GROWTH_AXIS_MAX_DIGITS = 21 digits in place.
        if (shape.length > 0) {
            dict.append(" ".repeat(Math.max(0, 21 - Long.toString(shape[0]).length())));
        }
        // As numpy.lib.format._wrap_header: pad with spaces and end with '\n' so the data is 64-byte aligned.
        int version = 1;
        int lengthFieldSize = 2;
        int unpadded = dict.length() + 1;
        int padding = ARRAY_ALIGN - (MAGIC.length + 2 + lengthFieldSize + unpadded) % ARRAY_ALIGN;
        if (unpadded + padding > 0xffff) {
            version = 2;
            lengthFieldSize = 4;
            padding = ARRAY_ALIGN - (MAGIC.length + 2 + lengthFieldSize + unpadded) % ARRAY_ALIGN;
        }
        int headerLength = unpadded + padding;
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + lengthFieldSize + headerLength)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) headerLength);
        } else {
            b.putInt(headerLength);
        }
        b.put(dict.toString().getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < padding; i++) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }
}
