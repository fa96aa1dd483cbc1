package io.dcls4j.cli.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two PNGs are written, decode, have the size, and show their curves in their colours. */
class TrainingChartsTest {
    @TempDir
    Path dir;

    private static List<EpochMetrics> run() {
        List<EpochMetrics> epochs = new ArrayList<>();
        for (int e = 1; e <= 8; e++) {
            epochs.add(new EpochMetrics(e, 1.2 / e, 0.9 / Math.sqrt(e), 0.70 + 0.025 * e, 40 + e));
        }
        return epochs;
    }

    private static int pixelsOf(BufferedImage image, Color c) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == (c.getRGB() & 0xffffff)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static BufferedImage read(Path file) throws IOException {
        assertTrue(Files.size(file) > 5000, file + " is only " + Files.size(file) + " bytes");
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " is not a PNG ImageIO can read");
        assertEquals(TrainingCharts.WIDTH, image.getWidth());
        assertEquals(TrainingCharts.HEIGHT, image.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                colours.add(image.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 30, "only " + colours.size() + " colours: an empty chart?");
        return image;
    }

    @Test
    void lossAndAccuracyCharts() throws IOException {
        Path loss = dir.resolve("charts/loss.png");
        Path accuracy = dir.resolve("charts/accuracy.png");
        TrainingCharts.loss(run(), loss, "ConvNeXt-DCLS on Fashion-MNIST: loss");
        TrainingCharts.accuracy(run(), accuracy, "ConvNeXt-DCLS on Fashion-MNIST: test accuracy");
        BufferedImage l = read(loss);
        // the curves, their point markers and legend swatches are drawn in the series colours
        assertTrue(pixelsOf(l, TrainingCharts.TRAIN) > 100, "train loss curve missing");
        assertTrue(pixelsOf(l, TrainingCharts.TEST) > 100, "test loss curve missing");
        BufferedImage a = read(accuracy);
        assertTrue(pixelsOf(a, TrainingCharts.TEST) > 100, "accuracy curve missing");
        assertEquals(0, pixelsOf(a, TrainingCharts.TRAIN), "the accuracy chart has one curve");
    }

    @Test
    void aDivergedEpochIsLeftOutNotDrawnAsGarbage() throws IOException {
        List<EpochMetrics> epochs = new ArrayList<>(run());
        epochs.add(new EpochMetrics(9, Double.NaN, Double.POSITIVE_INFINITY, 0.1, 40));
        Path loss = dir.resolve("loss.png");
        TrainingCharts.loss(epochs, loss, "diverged");
        read(loss);
        assertThrows(IllegalArgumentException.class, () -> TrainingCharts.loss(List.of(), loss, "none"));
    }
}
