package io.dcls4j.cli;

import io.dcls4j.Parameter;
import io.dcls4j.checkpoint.Safetensors;
import io.dcls4j.data.FashionMnist;
import io.dcls4j.nn.ConvNeXtDcls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code dcls4j train} on the real Fashion-MNIST files (CI installs them): a short run writes a metrics.json with the
 * promised keys, a model the PyTorch-name loader reads back equal to what was trained, the optimizer state and the
 * PNGs; a resumed run goes on from the finished epoch; bad options and a bad data folder get exit codes 2 and 1.
 */
class TrainCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), out.toString(), err.toString());
    }

    private static final String[] SMALL = {"--dims", "8,16", "--depths", "1,1", "--kernel-count", "3",
            "--dcls-kernel-size", "5", "--batch-size", "32", "--threads", "2"};

    private static String[] args(String... more) {
        String[] all = new String[SMALL.length + more.length];
        System.arraycopy(more, 0, all, 0, more.length);
        System.arraycopy(SMALL, 0, all, more.length, SMALL.length);
        return all;
    }

    @Test
    void aShortRunWritesMetricsModelOptimizerAndCharts() throws Exception {
        assumeTrue(FashionMnist.isPresent(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist is not installed");
        Path out = dir.resolve("run");
        Run r = run(args("train", "--steps", "20", "--epochs", "1", "--eval-images", "512", "--out", out.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        String json = Files.readString(out.resolve("metrics.json"));
        Matcher epoch = Pattern.compile("\\{\"epoch\": 1, \"train_loss\": ([0-9.eE+-]+), \"test_loss\": ([0-9.eE+-]+),"
                + " \"test_accuracy\": ([0-9.eE+-]+), \"seconds\": ([0-9.eE+-]+)}").matcher(json);
        assertTrue(epoch.find(), json);
        double trainLoss = Double.parseDouble(epoch.group(1));
        double accuracy = Double.parseDouble(epoch.group(3));
        assertTrue(trainLoss > 0 && trainLoss < 2.31 * 1.2, "a 10-class loss after 20 steps: " + trainLoss);
        // 20 steps of 32 images already beat chance (0.1) clearly on Fashion-MNIST
        assertTrue(accuracy > 0.2 && accuracy <= 1, "test accuracy after 20 steps: " + accuracy);
        for (String key : new String[] {"\"test_accuracy\": ", "\"parameters\": ", "\"images_per_second\": "}) {
            assertTrue(json.contains("\n  " + key), key + " missing:\n" + json);
        }
        // the model file reads back through the PyTorch-name loader into an equal model
        try (ConvNeXtDcls copy = ConvNeXtDcls.builder().inChannels(1).numClasses(10).depths(1, 1).dims(8, 16)
                .stemKernel(2).dclsKernelSize(5).dclsKernelCount(3)
                .interpolation(io.dcls4j.Interpolation.GAUSSIAN).seed(99).build()) {
            copy.loadPyTorchState(out.resolve("model.safetensors"));
            Safetensors.Contents saved = Safetensors.read(out.resolve("model.safetensors"));
            Parameter head = copy.namedParameters().get("head.weight");
            float[] loaded = head.value().toFloatArray();
            float[] file = saved.array("head.weight").toFloatArray();
            assertEquals(file.length, loaded.length);
            for (int i = 0; i < file.length; i++) {
                assertEquals(file[i], loaded[i], "head.weight[" + i + "]");
            }
        }
        Safetensors.Contents opt = Safetensors.read(out.resolve("optimizer.safetensors"));
        assertEquals(20.0, opt.array("optimizer.step").data()[0]);
        assertNotNull(opt.tensors().get("head.weight.exp_avg"));
        for (String png : new String[] {"loss.png", "accuracy.png", "positions.png"}) {
            BufferedImage image = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(image, png);
            assertTrue(image.getWidth() >= 500, png);
        }
    }

    @Test
    void aResumedRunContinuesAfterTheFinishedEpoch() throws Exception {
        assumeTrue(FashionMnist.isPresent(FashionMnist.DEFAULT_DIR), "dataset-fashion-mnist is not installed");
        Path out = dir.resolve("run");
        assertEquals(0, run(args("train", "--steps", "10", "--epochs", "1", "--eval-images", "256",
                "--out", out.toString())).code());
        Path second = dir.resolve("second");
        Run r = run(args("train", "--steps", "20", "--epochs", "2", "--eval-images", "256", "--out", second.toString(),
                "--resume", out.resolve("model.safetensors").toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("resumed from"), r.out());
        String json = Files.readString(second.resolve("metrics.json"));
        assertTrue(json.contains("{\"epoch\": 1,") && json.contains("{\"epoch\": 2,"), json);
        Safetensors.Contents opt = Safetensors.read(second.resolve("optimizer.safetensors"));
        assertEquals(20.0, opt.array("optimizer.step").data()[0], "10 steps before, 10 after");
    }

    @Test
    void badOptionsAreUsageErrorsAndABadDataFolderAFailure() {
        assertEquals(2, run("train", "--epochs", "0").code());
        assertEquals(2, run("train", "--batch-size", "-3").code());
        assertEquals(2, run("train", "--dims", "8,16", "--depths", "1").code());
        assertEquals(2, run("train", "--interpolation", "cubic").code());
        assertEquals(2, run("train", "--lr", "many").code());
        Run r = run("train", "--data", dir.resolve("nothing").toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("dataset-fashion-mnist"), r.err());
    }
}
