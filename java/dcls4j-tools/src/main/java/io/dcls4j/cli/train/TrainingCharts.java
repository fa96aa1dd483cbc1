package io.dcls4j.cli.train;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A training run's two PNGs, in the demo's style (see {@code DemoCharts}): train and test loss per epoch, and test
 * accuracy per epoch. 1000 x 560 pixels each.
 */
public final class TrainingCharts {
    static final Color TRAIN = new Color(0x1f77b4);
    static final Color TEST = new Color(0xd62728);
    static final int WIDTH = 1000;
    static final int HEIGHT = 560;
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    private static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 13);

    private TrainingCharts() {
    }

    /** Train loss and test loss against the epoch. Epochs whose loss is not finite are left out of its curve. */
    public static void loss(List<EpochMetrics> epochs, Path file, String heading) throws IOException {
        requireEpochs(epochs);
        XYSeries train = new XYSeries("train loss (mean over the epoch)", false, true);
        XYSeries test = new XYSeries("test loss", false, true);
        for (EpochMetrics e : epochs) {
            if (Double.isFinite(e.trainLoss())) {
                train.add(e.epoch(), e.trainLoss());
            }
            if (Double.isFinite(e.testLoss())) {
                test.add(e.epoch(), e.testLoss());
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(train);
        data.addSeries(test);
        NumberAxis y = new NumberAxis("cross-entropy loss");
        y.setAutoRangeIncludesZero(true);
        EpochMetrics last = epochs.get(epochs.size() - 1);
        write(chart(heading, data, y, String.format(Locale.ROOT, "after epoch %d: train loss %.4f, test loss %.4f",
                last.epoch(), last.trainLoss(), last.testLoss()), TRAIN, TEST), file);
    }

    /** Test accuracy, in percent, against the epoch. */
    public static void accuracy(List<EpochMetrics> epochs, Path file, String heading) throws IOException {
        requireEpochs(epochs);
        XYSeries test = new XYSeries("test accuracy", false, true);
        double best = 0;
        for (EpochMetrics e : epochs) {
            test.add(e.epoch(), 100 * e.testAccuracy());
            best = Math.max(best, e.testAccuracy());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(test);
        NumberAxis y = new NumberAxis("test accuracy (%)");
        y.setAutoRangeIncludesZero(false);
        EpochMetrics last = epochs.get(epochs.size() - 1);
        write(chart(heading, data, y, String.format(Locale.ROOT, "final %.2f%% after epoch %d (best %.2f%%)",
                100 * last.testAccuracy(), last.epoch(), 100 * best), TEST), file);
    }

    private static void requireEpochs(List<EpochMetrics> epochs) {
        if (epochs == null || epochs.isEmpty()) {
            throw new IllegalArgumentException("no epochs to chart");
        }
    }

    private static JFreeChart chart(String heading, XYSeriesCollection data, NumberAxis y, String subtitle,
                                    Color... colours) {
        NumberAxis x = new NumberAxis("epoch");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < colours.length; i++) {
            renderer.setSeriesPaint(i, colours[i]);
            renderer.setSeriesStroke(i, new BasicStroke(2.2f));
            renderer.setSeriesShape(i, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setOutlinePaint(Color.GRAY);
        JFreeChart chart = new JFreeChart(heading, TITLE, plot, true);
        chart.addSubtitle(new TextTitle(subtitle, SUBTITLE));
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static void write(JFreeChart chart, Path file) throws IOException {
        BufferedImage image = chart.createBufferedImage(WIDTH, HEIGHT);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer available");
        }
    }
}
