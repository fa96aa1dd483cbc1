package io.dcls4j.cli;

import io.dcls4j.Device;
import io.dcls4j.checkpoint.Safetensors;
import io.dcls4j.data.FashionMnist;
import io.dcls4j.internal.Cuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code dcls4j train --device cuda} against the same run on the CPU: a few steps on the real Fashion-MNIST files
 * give the same model, element by element (up to AdamW's steps on gradients within rounding of zero; see below). Runs on a GPU and over the library build's CUDA
 * emulation (this module's "gpu-emulated" test run); skipped where there is no CUDA device.
 */
class TrainOnCudaTest {
    @TempDir
    Path dir;

    private static int run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int code = cl.execute(args);
        assertEquals(0, code, out.toString());
        return code;
    }

    private static final double LR = 4e-3;

    private static String[] args(Path out, String device) {
        return new String[] {"train", "--device", device, "--steps", "6", "--epochs", "1", "--eval-images", "64",
                "--lr", Double.toString(LR),
                "--dims", "8,16", "--depths", "1,1", "--kernel-count", "3", "--dcls-kernel-size", "5", "--batch-size",
                "16", "--threads", "2", "--seed", "4", "--out", out.toString()};
    }

    @Test
    void trainingOnCudaGivesTheCpusModel() throws Exception {
        assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Cuda.noDeviceReason());
        assumeTrue(FashionMnist.isPresent(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist is not installed");
        Path cpu = dir.resolve("cpu");
        Path gpu = dir.resolve("gpu");
        run(args(cpu, "cpu"));
        run(args(gpu, "cuda:0"));
        Safetensors.Contents want = Safetensors.read(cpu.resolve("model.safetensors"));
        Safetensors.Contents got = Safetensors.read(gpu.resolve("model.safetensors"));
        assertEquals(want.tensors().keySet(), got.tensors().keySet());
        // The two devices' gradients differ by rounding (other summation orders), and AdamW moves an element by up
        // to about lr per step whatever its gradient's size: an element whose gradient is within that rounding of
        // zero may step the other way. So: every element within 1e-4 of the CPU's (relative to max(1, |max|)),
        // except at most 1 in 1,000 (and 3), which must still be within the run's whole step budget: 2 x 6 steps x
        // the largest learning rate (the positions', TrainCommand.POSITION_LR_SCALE x lr).
        long elements = 0;
        long apart = 0;
        for (var e : want.tensors().entrySet()) {
            float[] a = e.getValue().array().toFloatArray();
            float[] b = got.array(e.getKey()).toFloatArray();
            assertEquals(a.length, b.length, e.getKey());
            double scale = 1;
            for (float v : a) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]);
                if (d > 1e-4 * scale) {
                    apart++;
                    assertTrue(d <= 2 * 6 * LR * TrainCommand.POSITION_LR_SCALE, e.getKey() + "[" + i + "]: cpu " + a[i] + ", cuda " + b[i]
                            + ", more apart than 6 AdamW steps can take them");
                }
            }
            elements += a.length;
        }
        assertTrue(apart <= Math.max(3, elements / 1000), apart + " of " + elements
                + " parameters differ by more than 1e-4 between the CPU and CUDA runs");
        String metrics = Files.readString(gpu.resolve("metrics.json"));
        assertTrue(metrics.contains("\"train_loss\""), metrics);
    }
}
