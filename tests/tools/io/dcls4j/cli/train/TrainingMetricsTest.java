package io.dcls4j.cli.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** metrics.json: the exact text for a known run, and Python's json module reading back every value bit for bit. */
class TrainingMetricsTest {
    @TempDir
    Path dir;

    private static final TrainingMetrics RUN = new TrainingMetrics(List.of(
            new EpochMetrics(1, 0.6125, 0.4501, 0.8391, 52.25),
            new EpochMetrics(2, 0.41, Double.NaN, 0.87, 50.0)), 0.87, 27210, 1150.5);

    @Test
    void theTextIsExactlyAsSpecified() {
        String expected = """
                {
                  "epochs": [
                    {"epoch": 1, "train_loss": 0.6125, "test_loss": 0.4501, "test_accuracy": 0.8391, "seconds": 52.25},
                    {"epoch": 2, "train_loss": 0.41, "test_loss": null, "test_accuracy": 0.87, "seconds": 50.0}
                  ],
                  "test_accuracy": 0.87,
                  "parameters": 27210,
                  "images_per_second": 1150.5
                }
                """;
        assertEquals(expected, RUN.toJson());
        assertEquals("""
                {
                  "epochs": [],
                  "test_accuracy": 0.0,
                  "parameters": 0,
                  "images_per_second": 0.0
                }
                """, new TrainingMetrics(List.of(), 0, 0, 0).toJson());
    }

    private static boolean python() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import json").redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * Python reads the file, checks the keys and their order, and prints every number with float.hex (exact); the
     * test compares them with the doubles written.
     */
    @Test
    void pythonReadsBackEveryValueExactly() throws Exception {
        assumeTrue(python(), "python3 (CI has it)");
        Random r = new Random(5);
        List<EpochMetrics> epochs = new ArrayList<>();
        for (int e = 1; e <= 30; e++) {
            double loss = Math.exp(r.nextGaussian() * 10); // from about 1e-13 to 1e13
            epochs.add(new EpochMetrics(e, loss, r.nextDouble() * 3, r.nextDouble(), r.nextDouble() * 1e4));
        }
        epochs.add(new EpochMetrics(31, 1e-300, 12345678.0, 1.0, 0.0));
        TrainingMetrics m = new TrainingMetrics(epochs, epochs.get(29).testAccuracy(), 123_456_789_012L,
                r.nextDouble() * 1e5);
        Path file = dir.resolve("out/sub/metrics.json");
        m.write(file);
        assertEquals(m.toJson(), Files.readString(file));
        String script = """
                import json, sys
                d = json.load(open(sys.argv[1]))
                assert list(d) == ['epochs', 'test_accuracy', 'parameters', 'images_per_second'], list(d)
                assert isinstance(d['parameters'], int)
                for e in d['epochs']:
                    assert list(e) == ['epoch', 'train_loss', 'test_loss', 'test_accuracy', 'seconds'], list(e)
                    assert isinstance(e['epoch'], int)
                    print(e['epoch'], *(float(e[k]).hex() for k in list(e)[1:]))
                print(d['parameters'], float(d['test_accuracy']).hex(), float(d['images_per_second']).hex())
                """;
        Process p = new ProcessBuilder("python3", "-c", script, file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        String[] lines = out.strip().split("\n");
        assertEquals(epochs.size() + 1, lines.length, out);
        for (int i = 0; i < epochs.size(); i++) {
            EpochMetrics e = epochs.get(i);
            String[] f = lines[i].split(" ");
            assertEquals(e.epoch(), Integer.parseInt(f[0]));
            assertEquals(e.trainLoss(), Double.parseDouble(f[1]), 0.0, "train_loss of epoch " + e.epoch());
            assertEquals(e.testLoss(), Double.parseDouble(f[2]), 0.0);
            assertEquals(e.testAccuracy(), Double.parseDouble(f[3]), 0.0);
            assertEquals(e.seconds(), Double.parseDouble(f[4]), 0.0);
        }
        String[] top = lines[epochs.size()].split(" ");
        assertEquals(123_456_789_012L, Long.parseLong(top[0]));
        assertEquals(m.testAccuracy(), Double.parseDouble(top[1]), 0.0);
        assertEquals(m.imagesPerSecond(), Double.parseDouble(top[2]), 0.0);
    }

    @Test
    void accuraciesAreFractions() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EpochMetrics(1, 0.5, 0.5, 85.0, 1));
        assertTrue(e.getMessage().contains("percentage"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TrainingMetrics(List.of(), -0.1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new TrainingMetrics(List.of(), Double.NaN, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new TrainingMetrics(List.of(), 0.5, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new EpochMetrics(1, 0.5, 0.5, 0.5, -1));
    }
}
