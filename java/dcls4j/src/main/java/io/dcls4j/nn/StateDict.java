package io.dcls4j.nn;

import io.dcls4j.Tensor;
import io.dcls4j.checkpoint.Safetensors;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * PyTorch state dicts in .safetensors or NumPy .npz files (float32 or float64; integers for counters): a
 * model lists its entries (official name, target tensor, shape in the file, conversion each way), and
 * loading checks every key and shape before it changes anything.
 */
final class StateDict {
    private StateDict() {}

    /**
     * One state-dict entry. {@code fileShape} is torch's shape ({@code long[0]} for a scalar); entries sharing a
     * target (a stage's P under each block) must hold equal values in a file.
     */
    record Entry(String name, Tensor target, long[] fileShape, UnaryOperator<float[]> fromFile,
                 UnaryOperator<float[]> toFile) {
        static Entry plain(String name, Tensor target) {
            return new Entry(name, target, target.shape(), UnaryOperator.identity(), UnaryOperator.identity());
        }
    }

    static Map<String, NdArray> read(Path path) throws IOException {
        String file = path.getFileName().toString();
        if (file.endsWith(".npz")) {
            return Npz.read(path);
        }
        if (file.endsWith(".safetensors")) {
            Map<String, NdArray> out = new LinkedHashMap<>();
            Safetensors.read(path).tensors().forEach((k, v) -> out.put(k, v.array()));
            return out;
        }
        throw new IllegalArgumentException(path + ": expected a .safetensors or .npz state dict");
    }

    /** Loads every entry from {@code path}, or throws naming the first problem and changes nothing. */
    static void load(Path path, List<Entry> entries) throws IOException {
        Map<String, NdArray> arrays = read(path);
        List<String> missing = new ArrayList<>();
        Map<String, Entry> expected = new LinkedHashMap<>();
        for (Entry e : entries) {
            expected.put(e.name(), e);
            if (!arrays.containsKey(e.name())) {
                missing.add(e.name());
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : arrays.keySet()) {
            if (!expected.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException(path + ": state dict does not match the model:"
                    + (missing.isEmpty() ? "" : " missing keys " + missing)
                    + (unexpected.isEmpty() ? "" : " unexpected keys " + unexpected));
        }
        Map<Tensor, String> firstName = new IdentityHashMap<>();
        Map<Tensor, float[]> values = new IdentityHashMap<>();
        for (Entry e : entries) {
            NdArray a = arrays.get(e.name());
            if (!Arrays.equals(a.shape(), e.fileShape())) {
                throw new IllegalArgumentException(path + ": " + e.name() + " has shape " + Arrays.toString(a.shape())
                        + ", the model expects " + Arrays.toString(e.fileShape()));
            }
            float[] v = e.fromFile().apply(a.toFloatArray());
            float[] before = values.putIfAbsent(e.target(), v);
            if (before == null) {
                firstName.put(e.target(), e.name());
            } else if (!Arrays.equals(before, v)) {
                throw new IllegalArgumentException(path + ": " + e.name() + " differs from " + firstName.get(e.target())
                        + ", which the model shares with it");
            }
        }
        values.forEach(Tensor::copyFrom);
    }

    /** Writes every entry under its name: .safetensors (float32) or .npz (float32), by the file's extension. */
    static void save(Path path, List<Entry> entries) throws IOException {
        String file = path.getFileName().toString();
        boolean npz = file.endsWith(".npz");
        if (!npz && !file.endsWith(".safetensors")) {
            throw new IllegalArgumentException(path + ": expected a .safetensors or .npz file name");
        }
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        for (Entry e : entries) {
            arrays.put(e.name(), NdArray.ofFloats(e.toFile().apply(e.target().toFloatArray()), e.fileShape()));
        }
        if (npz) {
            Npz.write(path, arrays, true);
        } else {
            Map<String, Safetensors.Entry> tensors = new LinkedHashMap<>();
            arrays.forEach((k, v) -> tensors.put(k, Safetensors.Entry.f32(v)));
            Safetensors.write(path, tensors, Map.of("format", "pt"));
        }
    }
}
