package io.dcls4j.bench;

import io.dcls4j.Device;
import io.dcls4j.Tensor;
import io.dcls4j.nn.ConvNeXtDcls;
import io.dcls4j.nn.CrossEntropyLoss;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A training step of ConvNeXt-DCLS (the official tiny layout: dims 96/192/384/768, depths 3/3/9/3, DCLS 17x17
 * with 34 elements, bilinear; 1000 classes) on N = 8 inputs of 3x64x64: zeroGrad, forward, cross-entropy,
 * backward, on the CPU or a CUDA device. Also the Java heap allocated per step (the thread's allocation counter)
 * and the process's peak resident memory; and, given the peer, the same model in PyTorch (official code, DCLS
 * reference, on the same device) timed in a separate process of the same run.
 */
final class ModelBench {
    static final String NAME = "convnext-dcls-tiny-step";
    private static final Pattern PEER = Pattern.compile("step_ms ([0-9.]+) peak_rss_mib ([0-9.]+|nan)");

    private ModelBench() {}

    /**
     * @param heapBytesPerStep the median over {@link #ALLOCATION_STEPS} steps after the timed ones of the Java heap
     *                         the step allocated (the steady state: the first steps of a JVM allocate while the JIT
     *                         compilers replace interpreted code; the rare blips later are its recompilations)
     * @param heapBytesMaxStep the largest of those steps
     */
    record Measurement(double stepMs, double heapBytesPerStep, double heapBytesMaxStep, double peakRssMiB) {}

    /** Steps counted for the allocation figures. */
    static final int ALLOCATION_STEPS = 15;

    static String describe() {
        return "ConvNeXt-DCLS training step, dims 96/192/384/768, depths 3/3/9/3, DCLS 17x17 K=34 bilinear,"
                + " N=8, 3x64x64, 1000 classes";
    }

    /**
     * The step on {@code device}. On CUDA the step ends by copying one gradient element to the host: the copy is
     * enqueued behind the whole backward pass on the context's stream, so the timer stops when the GPU is done
     * (as torch.cuda.synchronize() in the peer). The input is copied to the device once, outside the step.
     */
    static Measurement run(int warmup, int reps, Device device) {
        SplittableRandom random = new SplittableRandom(7);
        try (var arena = java.lang.foreign.Arena.ofConfined();
             ConvNeXtDcls model = ConvNeXtDcls.builder().inChannels(3).numClasses(1000).depths(3, 3, 9, 3)
                     .dims(96, 192, 384, 768).seed(0).device(device).build();
             CrossEntropyLoss loss = new CrossEntropyLoss(0, device)) {
            Tensor host = Tensor.allocate(arena, 8, 3, 64, 64);
            for (long i = 0; i < host.elementCount(); i++) {
                host.set(i, (float) random.nextGaussian());
            }
            Tensor x = device.isCuda() ? host.to(arena, device) : host;
            int[] labels = new int[8];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = random.nextInt(1000);
            }
            // The stem's first parameter: its gradient is the last one backward writes.
            Tensor lastGradient = model.namedParameters().values().iterator().next().grad();
            Tensor sync = Tensor.allocate(arena, lastGradient.shape());
            Runnable step = () -> {
                model.zeroGrad();
                loss.forward(model.forward(x), labels);
                model.backward(loss.backward());
                if (device.isCuda()) {
                    sync.copyFrom(lastGradient);
                }
            };
            double ms = Timer.medianMs(warmup, reps, step);
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long[] allocated = new long[ALLOCATION_STEPS];
            for (int i = 0; i < allocated.length; i++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                step.run();
                allocated[i] = threads.getCurrentThreadAllocatedBytes() - before;
            }
            java.util.Arrays.sort(allocated);
            return new Measurement(ms, allocated[allocated.length / 2], allocated[allocated.length - 1], peakRssMiB());
        }
    }

    /** The peer: official ConvNeXt-DCLS in PyTorch, same shapes, in its own process. */
    static Measurement peer(String python, Path script, Path dclsSource, Path convnextSource, int warmup, int reps,
                            int threads, Device device) {
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--dcls-ref", dclsSource.toString(),
                "--convnext-ref", convnextSource.toString(), "--threads", String.valueOf(threads), "--batch", "8",
                "--size", "64", "--reps", String.valueOf(reps), "--warmup", String.valueOf(warmup), "--device",
                device.isCuda() ? "cuda:" + device.index() : "cpu"));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("the PyTorch model peer failed: " + out);
            }
            Matcher m = PEER.matcher(out);
            if (!m.find()) {
                throw new IllegalStateException("unexpected output from the PyTorch model peer: " + out);
            }
            double peak = m.group(2).equals("nan") ? Double.NaN : Double.parseDouble(m.group(2));
            return new Measurement(Double.parseDouble(m.group(1)), Double.NaN, Double.NaN, peak);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run the PyTorch model peer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** VmHWM of this process (MiB), NaN where /proc is missing. */
    private static double peakRssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
