package io.dcls4j.bench;

import io.dcls4j.Dcls;
import io.dcls4j.Backend;
import io.dcls4j.DclsConv;
import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.cli.DeviceConverter;
import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.KernelConstruction;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConstruct;
import io.dcls4j.reference.ReferenceConv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code dcls4j bench}: times, side by side in one run, the native DCLS layer, the dense convolution
 * of the same size (with dcls4j's engines, and plain oneDNN without them), the native kernel construction, the fast
 * pure-Java implementation (Vector API, all cores) and the pure-Java float64 reference, for forward and forward+backward (every gradient). Prints a table
 * with ratios and writes it as CSV.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times the native layer, plain oneDNN and the pure-Java implementation side by side.",
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:benchmarks ran", "1:a benchmark failed", "2:invalid arguments"})
public final class BenchCommand implements Callable<Integer> {

    /** The Vector API kernels stay interpreted for several calls; fewer warm-ups would time the JIT. */
    private static final int JAVA_MIN_WARMUP = 10;

    @Option(names = "--cases", split = ",", description = "Cases to run (default: all): ${COMPLETION-CANDIDATES}",
            completionCandidates = CaseNames.class)
    List<String> cases;

    @Option(names = "--reps", defaultValue = "5", description = "Timed repetitions per measurement (median reported).")
    int reps;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed repetitions first.")
    int warmup;

    @Option(names = "--reference-reps", defaultValue = "1",
            description = "Repetitions of the (slow) float64 reference; 0 skips it.")
    int referenceReps;

    @Option(names = "--threads", defaultValue = "0", description = "Native threads (0: all cores).")
    int threads;

    @Option(names = "--construction-256", description = "Also time kernel construction alone for 256->256 channels,"
            + " K=34, 17x17, Gaussian, with its peak memory.")
    boolean construction256;

    @Option(names = "--model-step", description = "Also time a ConvNeXt-DCLS training step (tiny layout, N=8, 64x64),"
            + " with the Java heap allocated per step and the peak memory; with --peer-src and --convnext-src, the"
            + " same model in PyTorch in the same run.")
    boolean modelStep;

    @Option(names = "--device", converter = DeviceConverter.class, defaultValue = "cpu",
            description = "--model-step: where the model (and the PyTorch peer) runs: cpu, cuda or cuda:N"
                    + " (default: ${DEFAULT-VALUE}). The layer cases run on the CPU.")
    Device device;

    @Option(names = "--convnext-src", description = "Folder holding models/convnext_dcls.py of K-H-Ismail/ConvNeXt-dcls.")
    Path convnextSource;

    @Option(names = "--model-peer-script", defaultValue = "scripts/convnext_dcls_torch_step.py",
            description = "The PyTorch ConvNeXt-DCLS step script.")
    Path modelPeerScript;

    @Option(names = "--csv", description = "Write the results to this CSV file.")
    Path csv;

    @Option(names = "--peer-src", description = "Folder of the PyTorch DCLS reference (holding DCLS/); with"
            + " --peer-script, times it in the same run.")
    Path peerSource;

    @Option(names = "--peer-script", description = "The peer timing script (shared/peer/dcls_torch_bench.py).")
    Path peerScript;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with torch, for the peer.")
    String python;

    static final class CaseNames extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        CaseNames() {
            super(BenchCase.SUITE.stream().map(BenchCase::name).toList());
        }
    }

    /**
     * Lets the JIT compiler threads finish the previous case's Vector API code (they would share the
     * two cores with the next native measurement) and collects its garbage.
     */
    private static void settle() {
        System.gc();
        try {
            Thread.sleep(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the pure-Java rows can run: the Vector API is an incubator module a plain JVM lacks. */
    private final boolean vectorApi = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /** One row of the table. */
    public record Result(String caseName, String implementation, double forwardMs, double forwardBackwardMs) {}

    @Override
    public Integer call() throws IOException {
        if (reps < 1 || warmup < 0 || referenceReps < 0 || threads < 0) {
            System.err.println("bench: --reps must be >= 1, --warmup, --reference-reps and --threads >= 0");
            return 2;
        }
        List<BenchCase> selected = new ArrayList<>();
        try {
            // --model-step alone runs only the model step
            List<String> names = cases != null ? cases
                    : modelStep ? List.of() : BenchCase.SUITE.stream().map(BenchCase::name).toList();
            for (String name : names) {
                selected.add(BenchCase.named(name));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            return 2;
        }
        Dcls.setNumThreads(threads);
        PrintStream out = System.out;
        out.printf(Locale.ROOT, "dcls4j bench: oneDNN %s, %s, %d native threads, %d cores, Java %s%n",
                Dcls.oneDnnVersion(), Dcls.cpuIsa(), Dcls.numThreads(), Runtime.getRuntime().availableProcessors(),
                Runtime.version());
        out.printf(Locale.ROOT, "median of %d runs after %d warm-up (float64 reference: %d run)%n%n", reps, warmup,
                referenceReps);
        if (!vectorApi) {
            out.println("note: no pure-Java (Vector API) rows: this JVM lacks the jdk.incubator.vector module"
                    + " (run with --add-modules jdk.incubator.vector)");
        }
        List<Result> results = new ArrayList<>();
        for (BenchCase c : selected) {
            out.println(c.name() + ": " + c.describe());
            settle();
            List<Result> rows = run(c);
            print(out, rows);
            results.addAll(rows);
            out.println();
        }
        if (construction256) {
            out.println(ConstructionBench.NAME + ": " + ConstructionBench.describe());
            ConstructionBench.Measurement m = ConstructionBench.run(warmup, reps);
            out.printf(Locale.ROOT, "  forward %.1f ms, forward+backward %.1f ms, peak memory added %s%n%n",
                    m.forwardMs(), m.forwardBackwardMs(),
                    Double.isNaN(m.peakExtraMiB()) ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", m.peakExtraMiB()));
            results.add(new Result(ConstructionBench.NAME, "native construction", m.forwardMs(), m.forwardBackwardMs()));
        }
        if (modelStep) {
            results.addAll(modelStep(out));
        }
        if (csv != null) {
            writeCsv(csv, results);
            out.println("wrote " + csv);
        }
        return 0;
    }

    private List<Result> modelStep(PrintStream out) {
        out.println(ModelBench.NAME + ": " + ModelBench.describe());
        settle();
        List<Result> rows = new ArrayList<>();
        ModelBench.Measurement m = ModelBench.run(warmup, reps, device);
        out.printf(Locale.ROOT, "  dcls4j: step %.1f ms, Java heap allocated per step %.0f bytes (median of %d steps;"
                        + " largest %.0f), peak RSS %.0f MiB%n",
                m.stepMs(), m.heapBytesPerStep(), ModelBench.ALLOCATION_STEPS, m.heapBytesMaxStep(), m.peakRssMiB());
        String where = device.isCuda() ? device.toString() : "CPU";
        rows.add(new Result(ModelBench.NAME, "dcls4j (io.dcls4j.nn, " + where + ")", Double.NaN, m.stepMs()));
        if (peerSource != null && convnextSource != null) {
            ModelBench.Measurement t = ModelBench.peer(python, modelPeerScript, peerSource, convnextSource, warmup, reps,
                    Dcls.numThreads(), device);
            out.printf(Locale.ROOT, "  PyTorch (official model, DCLS reference, %s): step %.1f ms, peak %s %.0f"
                    + " MiB%n  ratio PyTorch / dcls4j: %.2fx%n",
                    device.isCuda() ? device.toString() : Dcls.numThreads() + " threads", t.stepMs(),
                    device.isCuda() ? "GPU memory" : "RSS", t.peakRssMiB(), t.stepMs() / m.stepMs());
            rows.add(new Result(ModelBench.NAME, "PyTorch ConvNeXt-DCLS (torch, " + where + ")", Double.NaN,
                    t.stepMs()));
        }
        out.println();
        return rows;
    }

    List<Result> run(BenchCase c) {
        List<Result> rows = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(42);
        try (Arena arena = Arena.ofConfined();
             DclsConv conv = DclsConv.builder(c.inChannels(), c.outChannels()).groups(c.groups())
                     .kernelCount(c.kernelCount()).dilatedKernelSize(c.dilatedKernelSize()).padding(c.padding())
                     .interpolation(c.interpolation()).seed(1).build()) {
            if (c.spread()) {
                spreadPositions(conv, random);
            }
            Tensor x = fillRandom(Tensor.allocate(arena, c.inputShape()), random);
            Tensor gy = fillRandom(Tensor.allocate(arena, conv.outputShape(c.inputShape())), random);

            double layerForward = Timer.medianMs(warmup, reps, () -> conv.forward(x));
            double layerStep = Timer.medianMs(warmup, reps, () -> {
                conv.zeroGrad();
                conv.forward(x);
                conv.backward(gy);
            });
            rows.add(new Result(c.name(), "dcls4j native layer", layerForward, layerStep));

            rows.add(construction(c, conv, arena, random));

            try (Convolution dense = new Convolution(c.convConfig())) {
                rows.add(timeConvolution(c, dense, "dense conv, same kernel size", x, gy, arena, random));
            }
            rows.add(plainOneDnn(c, x, gy, arena, random));

            if (vectorApi) {
                rows.add(pureJava(c, conv, x, gy));
            }

            if (referenceReps > 0) {
                rows.add(reference(c, conv, x, gy));
            }
            if (peerSource != null && peerScript != null) {
                rows.add(PyTorchPeer.time(python, peerScript, peerSource, c, reps, warmup, Dcls.numThreads()));
            }
        }
        return rows;
    }

    /** Engine options that, all "never", leave oneDNN's own convolution (see Dcls.setEngineOption). */
    private static final List<String> OWN_ENGINES =
            List.of("dft_conv", "depthwise_conv", "depthwise_backward_weights", "dense_backward_weights");

    /** The same dense convolution with none of dcls4j's own engines: oneDNN 3.13 as it is. */
    private Result plainOneDnn(BenchCase c, Tensor x, Tensor gy, Arena arena, SplittableRandom random) {
        OWN_ENGINES.forEach(option -> Dcls.setEngineOption(option, "never"));
        Convolution plain;
        try {
            plain = new Convolution(c.convConfig());
        } finally {
            OWN_ENGINES.forEach(option -> Dcls.setEngineOption(option, "auto"));
        }
        try (plain) {
            return timeConvolution(c, plain, "plain oneDNN conv, same kernel size", x, gy, arena, random);
        }
    }

    /** A convolution alone with a dense random kernel: forward, and forward plus both backward passes. */
    private Result timeConvolution(BenchCase c, Convolution conv, String label, Tensor x, Tensor gy, Arena arena,
                                   SplittableRandom random) {
        Tensor kernel = fillRandom(Tensor.allocate(arena, conv.kernelShape()), random);
        Tensor y = Tensor.allocate(arena, conv.outputShape());
        Tensor gx = Tensor.allocate(arena, conv.inputShape());
        Tensor gk = Tensor.allocate(arena, conv.kernelShape());
        Tensor gb = Tensor.allocate(arena, c.outChannels());
        double f = Timer.medianMs(warmup, reps, () -> conv.forward(x, kernel, gb, y));
        double fb = Timer.medianMs(warmup, reps, () -> {
            conv.forward(x, kernel, gb, y);
            conv.backwardWeights(x, gy, gk, gb, false);
            conv.backwardData(gy, kernel, gx);
        });
        return new Result(c.name(), label, f, fb);
    }

    /** The native construction of the layer's kernel: forward, and forward plus every gradient. */
    private Result construction(BenchCase c, DclsConv conv, Arena arena, SplittableRandom random) {
        KernelConstruction construction = new KernelConstruction(c.constructConfig());
        Tensor w = conv.weight().value();
        Tensor p = conv.positions().value();
        Tensor s = conv.sigma() == null ? null : conv.sigma().value();
        Tensor kernel = Tensor.allocate(arena, construction.kernelShape());
        Tensor gk = fillRandom(Tensor.allocate(arena, construction.kernelShape()), random);
        Tensor gw = Tensor.allocate(arena, construction.weightShape());
        Tensor gp = Tensor.allocate(arena, construction.positionShape());
        Tensor gs = s == null ? null : Tensor.allocate(arena, construction.positionShape());
        double f = Timer.medianMs(warmup, reps, () -> construction.forward(w, p, s, kernel));
        double fb = Timer.medianMs(warmup, reps, () -> {
            construction.forward(w, p, s, kernel);
            construction.backward(w, p, s, gk, gw, gp, gs, false);
        });
        return new Result(c.name(), "  of which kernel construction", f, fb);
    }

    /** The pure-Java float64 implementation: construction and direct convolution, forward and backward. */
    private Result reference(BenchCase c, DclsConv conv, Tensor x, Tensor gy) {
        ConstructConfig cc = c.constructConfig();
        ConvConfig vc = c.convConfig();
        double[] w = toDouble(conv.weight().value().toFloatArray());
        double[] p = toDouble(conv.positions().value().toFloatArray());
        double[] s = conv.sigma() == null ? null : toDouble(conv.sigma().value().toFloatArray());
        double[] b = toDouble(conv.bias().value().toFloatArray());
        double[] xd = toDouble(x.toFloatArray());
        double[] gyd = toDouble(gy.toFloatArray());
        double forward = Timer.medianMs(0, referenceReps, () -> {
            double[] k = ReferenceConstruct.forward(cc, w, p, s);
            ReferenceConv.forward(vc, xd, k, b);
        });
        double step = Timer.medianMs(0, referenceReps, () -> {
            double[] k = ReferenceConstruct.forward(cc, w, p, s);
            ReferenceConv.forward(vc, xd, k, b);
            double[] gk = ReferenceConv.backwardWeights(vc, xd, gyd);
            ReferenceConv.backwardBias(vc, gyd);
            ReferenceConstruct.backward(cc, w, p, s, gk);
            ReferenceConv.backwardData(vc, gyd, k);
        });
        return new Result(c.name(), "pure Java float64 reference", forward, step);
    }

    static void print(PrintStream out, List<Result> rows) {
        Result base = rows.get(0);
        out.printf(Locale.ROOT, "  %-38s %12s %12s %14s%n", "implementation", "forward ms", "fwd+bwd ms",
                "fwd+bwd ratio");
        for (Result r : rows) {
            String ratio = Double.isNaN(r.forwardBackwardMs()) ? ""
                    : String.format(Locale.ROOT, "%.2fx", r.forwardBackwardMs() / base.forwardBackwardMs());
            out.printf(Locale.ROOT, "  %-38s %12s %12s %14s%n", r.implementation(), ms(r.forwardMs()),
                    ms(r.forwardBackwardMs()), ratio);
        }
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
    }

    static void writeCsv(Path path, List<Result> results) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("case,implementation,forward_ms,forward_backward_ms");
        for (Result r : results) {
            lines.add(String.join(",", r.caseName(), "\"" + r.implementation().trim() + "\"",
                    csvNumber(r.forwardMs()), csvNumber(r.forwardBackwardMs())));
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.write(path, lines);
    }

    private static String csvNumber(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.3f", v);
    }

    /**
     * The same layer on the pure-Java backend ({@link Backend#VECTOR_API}), with the native layer's parameters. Its
     * warm-up is longer: the vector kernels run slowly until C2 has compiled them.
     */
    private Result pureJava(BenchCase c, DclsConv conv, Tensor x, Tensor gy) {
        try (DclsConv java = DclsConv.builder(c.inChannels(), c.outChannels()).groups(c.groups())
                .kernelCount(c.kernelCount()).dilatedKernelSize(c.dilatedKernelSize()).padding(c.padding())
                .interpolation(c.interpolation()).backend(Backend.VECTOR_API).build()) {
            for (int i = 0; i < conv.parameters().size(); i++) {
                java.parameters().get(i).value().copyFrom(conv.parameters().get(i).value());
            }
            int javaWarmup = Math.max(warmup, JAVA_MIN_WARMUP);
            double f = Timer.medianMs(javaWarmup, reps, () -> java.forward(x));
            double fb = Timer.medianMs(javaWarmup, reps, () -> {
                java.zeroGrad();
                java.forward(x);
                java.backward(gy);
            });
            return new Result(c.name(), "pure Java float32 (Vector API)", f, fb);
        }
    }

    /** Positions uniform over the whole kernel (each axis within +-dilatedKernelSize/2), as after training. */
    private static void spreadPositions(DclsConv conv, SplittableRandom random) {
        Tensor p = conv.positions().value();
        int[] dks = conv.dilatedKernelSize();
        long perAxis = p.elementCount() / dks.length;
        for (long i = 0; i < p.elementCount(); i++) {
            double half = dks[(int) (i / perAxis)] / 2;
            p.set(i, (float) random.nextDouble(-half, half));
        }
    }

    private static Tensor fillRandom(Tensor t, SplittableRandom random) {
        for (long i = 0; i < t.elementCount(); i++) {
            t.set(i, (float) random.nextDouble(-1, 1));
        }
        return t;
    }

    private static double[] toDouble(float[] v) {
        double[] out = new double[v.length];
        Arrays.setAll(out, i -> v[i]);
        return out;
    }
}
