package io.dcls4j.checkpoint;

import io.dcls4j.DclsConv;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;
import io.dcls4j.internal.AtomicFile;
import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;
import io.dcls4j.optim.Optimizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Saves and loads layer parameters and optimizer state, as NumPy {@code .npz} or
 * {@code .safetensors} (chosen by the file name's extension).
 *
 * <h2>Names</h2>
 * <ul>
 *   <li>Parameters: {@code LAYER.weight}, {@code LAYER.P}, {@code LAYER.SIG}, {@code LAYER.bias}, where
 *       LAYER is the key of the layer in the map given (a single layer saved alone gets the bare names
 *       {@code weight, P, SIG, bias}). P and SIG are in <b>dcls4j's convention</b> (component d moves
 *       along spatial axis d, see {@link io.dcls4j.PyTorchLayout}), shapes as in the layer.</li>
 *   <li>Optimizer state: {@code optimizer.PARAM.STATE}, e.g. {@code optimizer.layer1.weight.exp_avg},
 *       with PyTorch's state names ({@code exp_avg, exp_avg_sq, max_exp_avg_sq} for AdamW,
 *       {@code momentum_buffer} for SGD with momentum), and {@code optimizer.step}, the step count
 *       (a 0-dimensional array). A parameter shared by several layers is saved under each layer's name,
 *       its optimizer state once, under the first of those names in sorted order (so that the names do
 *       not depend on the order of the map given, which for {@code Map.of} changes from JVM to JVM);
 *       loading accepts it under any of them.</li>
 *   <li>A marker: in {@code .npz} the array {@code __dcls4j_checkpoint__ = [1]}; in {@code .safetensors}
 *       the metadata {@code "format": "dcls4j", "dcls4j.checkpoint": "1"}.</li>
 * </ul>
 * {@code .npz} files are written in float64 (exact for float32 values and step counts); {@code .safetensors}
 * in F32, with {@code optimizer.step} as I64.
 *
 * <h2>Loading</h2>
 * Loading is all or nothing: the whole file is read and checked first (marker, every expected name present
 * with exactly the expected shape, no unexpected names, a valid step count), and only then is anything
 * written, so a corrupt, truncated or mismatched file leaves the layers and the optimizer unchanged.
 * Unreadable files give an {@link IOException}, mismatched ones an {@link IllegalArgumentException}.
 * Loading without an optimizer ignores the optimizer entries. A write is never left half-done: see
 * {@link io.dcls4j.internal.AtomicFile} for the temporary file, permissions and clean-up.
 *
 * <h2>PyTorch weights</h2>
 * {@link #importReference} reads a state_dict of the PyTorch reference ({@code weight, P, SIG, bias}, in the
 * reference's axis order, optionally under a prefix such as {@code layer1.}) saved with {@code numpy.savez}
 * or {@code safetensors.torch.save_file}, and converts it with {@link DclsConv#loadReferenceParameters}.
 */
public final class Checkpoint {
    /** The npz array that marks a dcls4j checkpoint. */
    public static final String MARKER = "__dcls4j_checkpoint__";
    /** The safetensors metadata key and value that mark a dcls4j checkpoint. */
    public static final String FORMAT_KEY = "format";
    public static final String FORMAT_VALUE = "dcls4j";
    public static final String VERSION_KEY = "dcls4j.checkpoint";
    /** The checkpoint format version. */
    public static final int VERSION = 1;
    /** The name of the optimizer's step count. */
    public static final String STEP = "optimizer.step";
    static final String OPTIMIZER_PREFIX = "optimizer.";

    private Checkpoint() {
    }

    /** The file formats, chosen by extension. */
    public enum Format {
        NPZ, SAFETENSORS;

        /** {@code .npz} or {@code .safetensors}, else {@link IllegalArgumentException}. */
        public static Format of(Path path) {
            String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".npz")) {
                return NPZ;
            }
            if (name.endsWith(".safetensors")) {
                return SAFETENSORS;
            }
            throw new IllegalArgumentException(path + ": unknown checkpoint format; use a .npz or .safetensors name");
        }
    }

    // ------------------------------------------------------------------------------------------------ saving

    /** Saves one layer's parameters under the bare names {@code weight, P, SIG, bias}. */
    public static void save(Path path, DclsConv layer) throws IOException {
        save(path, layer, null);
    }

    /** Saves one layer's parameters (bare names) and, if not null, the optimizer's state. */
    public static void save(Path path, DclsConv layer, Optimizer optimizer) throws IOException {
        save(path, Map.of("", layer), optimizer);
    }

    /** Saves the named layers' parameters and, if not null, the optimizer's state. */
    public static void save(Path path, Map<String, DclsConv> layers, Optimizer optimizer) throws IOException {
        Format format = Format.of(path);
        Layout layout = layout(layers, optimizer);
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : layout.tensors.entrySet()) {
            Tensor t = e.getValue();
            arrays.put(e.getKey(), NdArray.ofFloats(t.toFloatArray(), t.shape()));
        }
        if (format == Format.NPZ) {
            Map<String, NdArray> all = new LinkedHashMap<>();
            all.put(MARKER, NdArray.vector(VERSION));
            all.putAll(arrays);
            if (optimizer != null) {
                all.put(STEP, NdArray.of(new double[] {optimizer.steps()}, new long[0]));
            }
            Npz.write(path, all, false);
        } else {
            Map<String, Safetensors.Entry> all = new LinkedHashMap<>();
            arrays.forEach((k, v) -> all.put(k, Safetensors.Entry.f32(v)));
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put(FORMAT_KEY, FORMAT_VALUE);
            metadata.put(VERSION_KEY, Integer.toString(VERSION));
            if (optimizer != null) {
                metadata.put("optimizer", optimizer.getClass().getSimpleName());
                all.put(STEP, new Safetensors.Entry(Safetensors.DType.I64,
                        NdArray.of(new double[] {optimizer.steps()}, new long[0])));
            }
            Safetensors.write(path, all, metadata);
        }
    }

    // ------------------------------------------------------------------------------------------------ loading

    /** Loads one layer's parameters saved with {@link #save(Path, DclsConv)}. */
    public static void load(Path path, DclsConv layer) throws IOException {
        load(path, layer, null);
    }

    /** Loads one layer's parameters and, if not null, the optimizer's state. */
    public static void load(Path path, DclsConv layer, Optimizer optimizer) throws IOException {
        load(path, Map.of("", layer), optimizer);
    }

    /**
     * Loads the named layers' parameters and, if not null, the optimizer's state, all or nothing (see
     * the class comment).
     */
    public static void load(Path path, Map<String, DclsConv> layers, Optimizer optimizer) throws IOException {
        Layout layout = layout(layers, optimizer);
        Contents file = readFile(path);
        if (!file.marked) {
            throw new IllegalArgumentException(path + ": not a dcls4j checkpoint (no " + (file.npz ? MARKER + " array"
                    : "\"format\": \"dcls4j\" metadata") + "); a PyTorch state_dict is loaded with importReference,"
                    + " which converts the reference's axis order");
        }
        if (file.version != VERSION) {
            throw new IllegalArgumentException(path + ": dcls4j checkpoint version " + file.version
                    + ", this dcls4j reads version " + VERSION);
        }
        List<String> problems = new ArrayList<>();
        Map<Tensor, float[]> values = new IdentityHashMap<>();
        for (Map.Entry<String, Tensor> e : layout.tensors.entrySet()) {
            String name = e.getKey();
            Tensor target = e.getValue();
            NdArray a = file.arrays.get(name);
            for (String alias : layout.aliases.getOrDefault(name, List.of())) {
                a = a != null ? a : file.arrays.get(alias);
            }
            if (a == null) {
                problems.add("missing '" + name + "'");
            } else if (!Arrays.equals(a.shape(), target.shape())) {
                problems.add("'" + name + "' has shape " + Arrays.toString(a.shape()) + ", expected "
                        + Arrays.toString(target.shape()));
            } else {
                values.put(target, a.toFloatArray());
            }
        }
        long steps = -1;
        if (optimizer != null) {
            NdArray s = file.arrays.get(STEP);
            if (s == null) {
                problems.add("missing '" + STEP + "'");
            } else if (s.size() != 1 || !(s.data()[0] >= 0) || s.data()[0] != Math.rint(s.data()[0])
                    || s.data()[0] > Long.MAX_VALUE) {
                problems.add("'" + STEP + "' must be one integer >= 0, got " + s);
            } else {
                steps = (long) s.data()[0];
            }
        }
        Set<String> unexpected = new LinkedHashSet<>();
        for (String name : file.arrays.keySet()) {
            boolean optimizerEntry = name.startsWith(OPTIMIZER_PREFIX);
            if (name.equals(MARKER) || (optimizerEntry && optimizer == null)) {
                continue;
            }
            if (!layout.tensors.containsKey(name) && !layout.aliasNames.contains(name) && !name.equals(STEP)) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            problems.add("unexpected " + unexpected);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(path + " does not match " + describe(layers, optimizer) + ": "
                    + String.join("; ", problems));
        }
        for (Tensor t : layout.tensors.values()) {
            t.requireAlive("checkpoint target");
        }
        // everything checked: write
        for (Map.Entry<Tensor, float[]> e : values.entrySet()) {
            e.getKey().copyFrom(e.getValue());
        }
        if (optimizer != null) {
            optimizer.restoreSteps(steps);
        }
    }

    /** Imports a PyTorch reference state_dict ({@code weight, P, SIG, bias}) into {@code layer}. */
    public static void importReference(Path path, DclsConv layer) throws IOException {
        importReference(path, "", layer);
    }

    /**
     * Imports the reference parameters {@code PREFIX.weight, PREFIX.P, PREFIX.SIG, PREFIX.bias} (other
     * entries are ignored, so a whole model's state_dict works) into {@code layer}, converting P and SIG from
     * the reference's axis order. All or nothing, like {@link #load}.
     */
    public static void importReference(Path path, String prefix, DclsConv layer) throws IOException {
        Objects.requireNonNull(layer, "layer");
        String p = prefix == null || prefix.isEmpty() || prefix.endsWith(".") ? (prefix == null ? "" : prefix)
                : prefix + ".";
        Contents file = readFile(path);
        if (file.marked) {
            throw new IllegalArgumentException(path + " is a dcls4j checkpoint, whose P and SIG are already in"
                    + " dcls4j's axis order: load it with Checkpoint.load; importReference converts PyTorch"
                    + " reference state_dicts");
        }
        List<String> problems = new ArrayList<>();
        float[] w = referenceArray(file, p + "weight", layer.weight(), problems);
        float[] pos = referenceArray(file, p + "P", layer.positions(), problems);
        float[] sig = null;
        if (layer.sigma() != null) {
            sig = referenceArray(file, p + "SIG", layer.sigma(), problems);
        } else if (file.arrays.containsKey(p + "SIG")) {
            problems.add("'" + p + "SIG' given, but " + layer.interpolation() + " has no sigma");
        }
        float[] b = null;
        if (layer.bias() != null) {
            b = referenceArray(file, p + "bias", layer.bias(), problems);
        } else if (file.arrays.containsKey(p + "bias")) {
            problems.add("'" + p + "bias' given, but the layer has no bias");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(path + " does not match " + layer + ": " + String.join("; ", problems));
        }
        layer.loadReferenceParameters(w, pos, sig, b);
    }

    private static float[] referenceArray(Contents file, String name, Parameter target, List<String> problems) {
        NdArray a = file.arrays.get(name);
        if (a == null) {
            problems.add("missing '" + name + "'");
            return null;
        }
        long[] expected = target.value().shape();
        if (!Arrays.equals(a.shape(), expected)) {
            problems.add("'" + name + "' has shape " + Arrays.toString(a.shape()) + ", expected "
                    + Arrays.toString(expected));
            return null;
        }
        return a.toFloatArray();
    }

    /**
     * The arrays a checkpoint of these layers and optimizer holds, by name, as views of the live tensors
     * (not copies); the step count is not included.
     */
    public static Map<String, Tensor> stateDict(Map<String, DclsConv> layers, Optimizer optimizer) {
        return layout(layers, optimizer).tensors;
    }

    // ------------------------------------------------------------------------------------------------ internals

    /**
     * The tensors by name, and for the optimizer state of a shared parameter the other names it may be
     * found under (canonical name to aliases; aliasNames: all of them).
     */
    private record Layout(Map<String, Tensor> tensors, Map<String, List<String>> aliases, Set<String> aliasNames) {
    }

    private static Layout layout(Map<String, DclsConv> layers, Optimizer optimizer) {
        Objects.requireNonNull(layers, "layers");
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("no layers given");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<Parameter, java.util.TreeSet<String>> names = new IdentityHashMap<>();
        for (Map.Entry<String, DclsConv> e : layers.entrySet()) {
            String layerName = Objects.requireNonNull(e.getKey(), "layer name");
            DclsConv layer = Objects.requireNonNull(e.getValue(), "layer '" + layerName + "'");
            if (layerName.equals("optimizer") || layerName.startsWith("__") || layerName.contains("..")
                    || layerName.endsWith(".") || (layers.size() > 1 && layerName.isEmpty())) {
                throw new IllegalArgumentException("invalid layer name '" + layerName + "'");
            }
            if (layer.isClosed()) {
                throw new IllegalStateException("layer '" + layerName + "' is closed");
            }
            String prefix = layerName.isEmpty() ? "" : layerName + ".";
            for (Parameter p : layer.parameters()) {
                String name = prefix + p.name();
                tensors.put(name, p.value());
                names.computeIfAbsent(p, k -> new java.util.TreeSet<>()).add(name);
            }
        }
        Map<String, List<String>> aliases = new LinkedHashMap<>();
        Set<String> aliasNames = new LinkedHashSet<>();
        if (optimizer != null) {
            for (Parameter p : optimizer.parameters()) {
                java.util.TreeSet<String> all = names.get(p);
                if (all == null) {
                    throw new IllegalArgumentException("optimizer parameter " + p
                            + " belongs to none of the layers given; name every layer the optimizer updates");
                }
                String name = all.first(); // sorted: independent of the map's iteration order
                for (String state : optimizer.stateNames()) {
                    String canonical = OPTIMIZER_PREFIX + name + "." + state;
                    tensors.put(canonical, optimizer.state(p, state));
                    List<String> others = all.stream().skip(1).map(n -> OPTIMIZER_PREFIX + n + "." + state).toList();
                    if (!others.isEmpty()) {
                        aliases.put(canonical, others);
                        aliasNames.addAll(others);
                    }
                }
            }
        }
        return new Layout(tensors, aliases, aliasNames);
    }

    private static String describe(Map<String, DclsConv> layers, Optimizer optimizer) {
        return (layers.size() == 1 && layers.containsKey("") ? "the layer" : "layers " + layers.keySet())
                + (optimizer == null ? "" : " and " + optimizer.getClass().getSimpleName());
    }

    private record Contents(Map<String, NdArray> arrays, boolean npz, boolean marked, int version) {
    }

    private static Contents readFile(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        AtomicFile.removeStale(path); // a temporary file left by a save that was killed
        if (Format.of(path) == Format.NPZ) {
            Map<String, NdArray> arrays = Npz.read(path);
            NdArray marker = arrays.remove(MARKER);
            int version = marker != null && marker.size() == 1 ? (int) marker.data()[0] : -1;
            return new Contents(arrays, true, marker != null, version);
        }
        Safetensors.Contents c = Safetensors.read(path);
        Map<String, NdArray> arrays = new LinkedHashMap<>();
        for (Map.Entry<String, Safetensors.Entry> e : c.tensors().entrySet()) {
            arrays.put(e.getKey(), e.getValue().array());
        }
        boolean marked = FORMAT_VALUE.equals(c.metadata().get(FORMAT_KEY));
        int version;
        try {
            version = Integer.parseInt(c.metadata().getOrDefault(VERSION_KEY, "-1"));
        } catch (NumberFormatException e) {
            version = -1;
        }
        return new Contents(arrays, false, marked, version);
    }
}
