package io.dcls4j.cli.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of a training run, written as {@code metrics.json}:
 *
 * <pre>{@code
 * {
 *   "epochs": [
 *     {"epoch": 1, "train_loss": 0.61, "test_loss": 0.45, "test_accuracy": 0.8391, "seconds": 52.3},
 *     ...
 *   ],
 *   "test_accuracy": 0.9012,
 *   "parameters": 27210,
 *   "images_per_second": 1150.2
 * }
 * }</pre>
 *
 * Accuracies are fractions in [0, 1]; {@code test_accuracy} at the top is the final one. Exactly these keys, in this
 * order. A loss that is not finite (a diverged run) is written as {@code null}, JSON having no NaN or infinity.
 *
 * @param epochs          every epoch, in order
 * @param testAccuracy    final test accuracy, a fraction
 * @param parameters      number of trainable parameters of the model
 * @param imagesPerSecond training throughput over the run
 */
public record TrainingMetrics(List<EpochMetrics> epochs, double testAccuracy, long parameters,
                              double imagesPerSecond) {
    public TrainingMetrics {
        epochs = List.copyOf(epochs);
        checkFraction("test_accuracy", testAccuracy);
        if (parameters < 0) {
            throw new IllegalArgumentException("parameters must be >= 0, got " + parameters);
        }
        if (!(imagesPerSecond >= 0) || Double.isInfinite(imagesPerSecond)) {
            throw new IllegalArgumentException("images_per_second must be finite and >= 0, got " + imagesPerSecond);
        }
    }

    static void checkFraction(String what, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(what + " is a fraction in [0, 1], got " + value
                    + (value > 1 && value <= 100 ? " (a percentage?)" : ""));
        }
    }

    /** The JSON text, two-space indented, one epoch per line, ending with a newline. */
    public String toJson() {
        StringBuilder s = new StringBuilder(128 + 112 * epochs.size());
        s.append("{\n  \"epochs\": [");
        for (int i = 0; i < epochs.size(); i++) {
            EpochMetrics e = epochs.get(i);
            s.append(i == 0 ? "\n" : ",\n");
            s.append("    {\"epoch\": ").append(e.epoch());
            s.append(", \"train_loss\": ").append(number(e.trainLoss()));
            s.append(", \"test_loss\": ").append(number(e.testLoss()));
            s.append(", \"test_accuracy\": ").append(number(e.testAccuracy()));
            s.append(", \"seconds\": ").append(number(e.seconds())).append('}');
        }
        s.append(epochs.isEmpty() ? "],\n" : "\n  ],\n");
        s.append("  \"test_accuracy\": ").append(number(testAccuracy)).append(",\n");
        s.append("  \"parameters\": ").append(parameters).append(",\n");
        s.append("  \"images_per_second\": ").append(number(imagesPerSecond)).append("\n}\n");
        return s.toString();
    }

    /**
     * A JSON number: the shortest decimal that reads back as the same double ({@link Double#toString}, whose
     * {@code 1.0E-5} form is valid JSON), or {@code null} when not finite.
     */
    static String number(double v) {
        if (!Double.isFinite(v)) {
            return "null";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.format(Locale.ROOT, "%.1f", v); // 3.0, not 3.0E0 or 3
        }
        return Double.toString(v);
    }

    /** Writes {@link #toJson()} to {@code file}, whole or not at all (through a temporary file and a rename). */
    public void write(Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path parent = absolute.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, absolute.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static final java.util.regex.Pattern EPOCH = java.util.regex.Pattern.compile(
            "\\{\"epoch\": (\\d+), \"train_loss\": ([^,]+), \"test_loss\": ([^,]+),"
                    + " \"test_accuracy\": ([^,]+), \"seconds\": ([^}]+)}");

    /** The epochs of a metrics.json that {@link TrainingMetrics#toJson()} wrote (one epoch object per line). */
    static List<EpochMetrics> readEpochs(Path file) throws IOException {
        List<EpochMetrics> epochs = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            java.util.regex.Matcher m = EPOCH.matcher(line);
            if (m.find()) {
                epochs.add(new EpochMetrics(Integer.parseInt(m.group(1)), number(m.group(2)), number(m.group(3)),
                        number(m.group(4)), number(m.group(5))));
            }
        }
        for (int i = 0; i < epochs.size(); i++) {
            if (epochs.get(i).epoch() != i + 1) {
                throw new IOException(file + ": epochs are not 1, 2, 3...: " + epochs);
            }
        }
        return epochs;
    }

    private static double number(String s) {
        return s.trim().equals("null") ? Double.NaN : Double.parseDouble(s.trim());
    }
}
