package io.dcls4j.checkpoint;

import io.dcls4j.internal.AtomicFile;
import io.dcls4j.io.NdArray;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON
 * <pre>{"__metadata__": {"key": "value", ...},
 *  "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}</pre>
 * then the raw little-endian, C-order data of every tensor; offsets are relative to the first
 * byte after the header. dcls4j pads the header with spaces to a multiple of 8 bytes, so the data
 * is 8-byte aligned.
 *
 * <p>Reading is strict, as the specification asks: the header must be at most 100 MB of valid
 * JSON without duplicate keys, each tensor's byte range must match its dtype and shape, and the
 * tensors must cover the data exactly (no holes, no overlap, nothing after). Any violation,
 * including a truncated file, is an {@link IOException} naming the file and the problem. Values
 * of every dtype except the 8-bit floats are converted to double.
 */
public final class Safetensors {
    /** The header size limit of the specification. */
    static final long MAX_HEADER = 100_000_000L;
    static final String METADATA = "__metadata__";

    private Safetensors() {
    }

    /** Element types of the format. */
    public enum DType {
        F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U64(8), U32(4), U16(2), U8(1), BOOL(1);

        private final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** Bytes per element. */
        public int bytes() {
            return bytes;
        }
    }

    /** One tensor: its stored element type and its values. */
    public record Entry(DType dtype, NdArray array) {
        public Entry {
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(array, "array");
        }

        /** Stored as float32. */
        public static Entry f32(NdArray array) {
            return new Entry(DType.F32, array);
        }
    }

    /** A file's tensors, in header order, and its {@code __metadata__} (empty if none). */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }

        /** The values of {@code name}, or null. */
        public NdArray array(String name) {
            Entry e = tensors.get(name);
            return e == null ? null : e.array();
        }
    }

    // --------------------------------------------------------------------------------------------- reading

    private record Spec(String name, DType dtype, long[] shape, long begin, long end) {
    }

    /** Reads a whole file. */
    public static Contents read(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return read(channel);
        } catch (IOException e) {
            throw new IOException(path + ": " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        } catch (RuntimeException e) {
            throw new IOException(path + ": corrupt safetensors file: " + e, e);
        }
    }

    private static Contents read(FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new IOException("truncated: " + size + " bytes, not even the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 2 || headerLength > MAX_HEADER) {
            throw new IOException("header length " + Long.toUnsignedString(headerLength)
                    + " is implausible (not a safetensors file?)");
        }
        if (8 + headerLength > size) {
            throw new IOException("truncated: the header needs " + headerLength + " bytes, the file has "
                    + (size - 8) + " after the length");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        headerBytes.flip();
        String header;
        try {
            header = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBytes).toString();
        } catch (CharacterCodingException e) {
            throw new IOException("header is not valid UTF-8");
        }
        if (!header.startsWith("{")) {
            throw new IOException("header does not start with '{' (not a safetensors file?)");
        }
        Object parsed = Json.parse(header);
        if (!(parsed instanceof Map<?, ?> root)) {
            throw new IOException("header is not a JSON object");
        }
        long dataLength = size - 8 - headerLength;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Spec> specs = new ArrayList<>();
        for (Map.Entry<?, ?> e : root.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA)) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) {
                    throw new IOException("__metadata__ is not an object");
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String s)) {
                        throw new IOException("__metadata__ value of '" + m.getKey() + "' is not a string");
                    }
                    metadata.put((String) m.getKey(), s);
                }
                continue;
            }
            specs.add(spec(name, e.getValue(), dataLength));
        }
        // the tensors must cover the data buffer exactly
        List<Spec> sorted = new ArrayList<>(specs);
        sorted.sort(Comparator.comparingLong(Spec::begin).thenComparingLong(Spec::end));
        long expected = 0;
        for (Spec s : sorted) {
            if (s.begin != expected) {
                throw new IOException("tensor '" + s.name + "' starts at byte " + s.begin + " of the data, expected "
                        + expected + (s.begin > expected ? " (a hole)" : " (overlaps another tensor)"));
            }
            expected = s.end;
        }
        if (expected != dataLength) {
            throw new IOException(expected > dataLength ? "truncated" : "the data has " + (dataLength - expected)
                    + " bytes after the last tensor");
        }
        Map<String, Entry> tensors = new LinkedHashMap<>();
        if (dataLength > 0) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment data = channel.map(FileChannel.MapMode.READ_ONLY, 8 + headerLength, dataLength, arena);
                for (Spec s : specs) {
                    tensors.put(s.name, new Entry(s.dtype, NdArray.of(decode(data, s), s.shape)));
                }
            }
        } else {
            for (Spec s : specs) {
                tensors.put(s.name, new Entry(s.dtype, NdArray.of(new double[0], s.shape)));
            }
        }
        return new Contents(tensors, metadata);
    }

    private static Spec spec(String name, Object value, long dataLength) throws IOException {
        String where = "tensor '" + name + "': ";
        if (!(value instanceof Map<?, ?> info)) {
            throw new IOException(where + "not an object");
        }
        for (Object key : info.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new IOException(where + "unknown field '" + key + "'");
            }
        }
        if (!(info.get("dtype") instanceof String dtypeName)) {
            throw new IOException(where + "dtype missing");
        }
        DType dtype;
        try {
            dtype = DType.valueOf(dtypeName);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + "unsupported dtype " + dtypeName);
        }
        if (!(info.get("shape") instanceof List<?> shapeList)) {
            throw new IOException(where + "shape missing");
        }
        long[] shape = new long[shapeList.size()];
        long count = 1;
        for (int d = 0; d < shape.length; d++) {
            if (!(shapeList.get(d) instanceof Long v) || v < 0) {
                throw new IOException(where + "shape " + shapeList + " is not a list of sizes >= 0");
            }
            shape[d] = v;
            try {
                count = Math.multiplyExact(count, v);
            } catch (ArithmeticException e) {
                throw new IOException(where + "shape " + shapeList + " is too large");
            }
        }
        if (!(info.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
            throw new IOException(where + "data_offsets must be [begin, end]");
        }
        if (begin < 0 || end < begin) {
            throw new IOException(where + "data_offsets " + offsets + " are not a byte range");
        }
        if (end > dataLength) {
            throw new IOException(where + "truncated: data_offsets " + offsets + " run past the data ("
                    + dataLength + " bytes)");
        }
        if (count > (Integer.MAX_VALUE - 8) || end - begin != count * dtype.bytes()) {
            throw new IOException(where + "data_offsets " + offsets + " hold " + (end - begin) + " bytes, but "
                    + dtype + " " + shapeList + " needs " + (count * dtype.bytes()));
        }
        return new Spec(name, dtype, shape, begin, end);
    }

    private static final ValueLayout.OfDouble LE_F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static double[] decode(MemorySegment data, Spec s) {
        MemorySegment m = data.asSlice(s.begin, s.end - s.begin);
        int n = (int) ((s.end - s.begin) / s.dtype.bytes());
        double[] out = new double[n];
        switch (s.dtype) {
            case F64 -> { for (int i = 0; i < n; i++) out[i] = m.getAtIndex(LE_F64, i); }
            case F32 -> { for (int i = 0; i < n; i++) out[i] = m.getAtIndex(LE_F32, i); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(m.getAtIndex(LE_I16, i)); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(m.getAtIndex(LE_I16, i) << 16); }
            case I64 -> { for (int i = 0; i < n; i++) out[i] = m.getAtIndex(LE_I64, i); }
            case U64 -> { for (int i = 0; i < n; i++) out[i] = unsigned(m.getAtIndex(LE_I64, i)); }
            case I32 -> { for (int i = 0; i < n; i++) out[i] = m.getAtIndex(LE_I32, i); }
            case U32 -> { for (int i = 0; i < n; i++) out[i] = Integer.toUnsignedLong(m.getAtIndex(LE_I32, i)); }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = m.getAtIndex(LE_I16, i); }
            case U16 -> { for (int i = 0; i < n; i++) out[i] = Short.toUnsignedInt(m.getAtIndex(LE_I16, i)); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = m.get(ValueLayout.JAVA_BYTE, i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, i)); }
        }
        return out;
    }

    private static double unsigned(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long p = position;
        while (buffer.hasRemaining()) {
            int r = channel.read(buffer, p);
            if (r < 0) {
                throw new IOException("truncated");
            }
            p += r;
        }
    }

    // --------------------------------------------------------------------------------------------- writing

    /**
     * Writes the tensors, in the map's order, with {@code metadata} (may be empty or null). Only
     * F64, F32 and I64 can be written (I64 values must be integers). The file is written beside
     * {@code path} and moved over it, so an existing file is never left half-written.
     */
    public static void write(Path path, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        StringBuilder json = new StringBuilder("{");
        boolean first = true;
        if (metadata != null && !metadata.isEmpty()) {
            Json.quote(json, METADATA);
            json.append(":{");
            boolean firstMeta = true;
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                if (!firstMeta) {
                    json.append(',');
                }
                firstMeta = false;
                Json.quote(json, Objects.requireNonNull(m.getKey(), "metadata key"));
                json.append(':');
                Json.quote(json, Objects.requireNonNull(m.getValue(), "metadata value of " + m.getKey()));
            }
            json.append('}');
            first = false;
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            String name = e.getKey();
            Entry entry = Objects.requireNonNull(e.getValue(), "tensor '" + name + "'");
            if (name == null || name.isEmpty() || name.equals(METADATA)) {
                throw new IllegalArgumentException("invalid tensor name '" + name + "'");
            }
            checkWritable(name, entry);
            long bytes = (long) entry.array().size() * entry.dtype().bytes();
            if (!first) {
                json.append(',');
            }
            first = false;
            Json.quote(json, name);
            json.append(":{\"dtype\":\"").append(entry.dtype()).append("\",\"shape\":[");
            long[] shape = entry.array().shape();
            for (int d = 0; d < shape.length; d++) {
                json.append(d == 0 ? "" : ",").append(shape[d]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        byte[] headerPadded = Arrays.copyOf(header, padded);
        Arrays.fill(headerPadded, header.length, padded, (byte) ' ');

        AtomicFile.write(path, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerPadded);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry entry : tensors.values()) {
                for (double v : entry.array().data()) {
                    if (buf.remaining() < 8) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    switch (entry.dtype()) {
                        case F64 -> buf.putDouble(v);
                        case F32 -> buf.putFloat((float) v);
                        default -> buf.putLong((long) v);
                    }
                }
            }
            out.write(buf.array(), 0, buf.position());
        });
    }

    private static void checkWritable(String name, Entry entry) {
        switch (entry.dtype()) {
            case F64, F32 -> { }
            case I64 -> {
                for (double v : entry.array().data()) {
                    if (v != Math.rint(v) || Math.abs(v) > 0x1p63) {
                        throw new IllegalArgumentException("tensor '" + name + "': " + v + " is not an I64 value");
                    }
                }
            }
            default -> throw new IllegalArgumentException("tensor '" + name + "': writing " + entry.dtype()
                    + " is not supported (F64, F32 and I64 are)");
        }
    }
}
