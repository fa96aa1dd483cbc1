package io.dcls4j.cli;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.GeneralPath;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;

/** The demo's two PNGs: the learned positions' paths beside the true ones, and the loss curve. */
final class DemoCharts {
    private static final Color[] COLORS = {
            new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
            new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 18);
    private static final Font SUBTITLE = new Font(Font.SANS_SERIF, Font.PLAIN, 13);

    private DemoCharts() {
    }

    /**
     * Two panels. Left: in 2D each student tap's path in the kernel plane (column offset across, row offset
     * down, as in the kernel image), from a small circle (start) to its end, with the teacher's taps as
     * crosses in the colour of the student tap matched to them; in 1D the positions against the step, with
     * the teacher's taps as dashed lines. Right: each tap's distance to its teacher tap against the step, on
     * a log scale, with the 0.1 px target.
     */
    static void positions(Demo.Result r, Path file, String heading) throws IOException {
        int panelW = 640;
        int panelH = 600;
        int top = 64;
        BufferedImage image = new BufferedImage(2 * panelW, top + panelH, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(TITLE);
            g.drawString(heading, 16, 28);
            g.setFont(SUBTITLE);
            g.drawString(String.format("%d taps (one per channel pair), %d steps; final error max |learned - true|"
                    + " = %.4f px", r.taps(), r.config().steps(), r.error()), 16, 52);
            JFreeChart left = r.config().dims() == 2 ? plane(r) : overSteps(r);
            left.draw(g, new Rectangle2D.Double(0, top, panelW, panelH));
            errors(r).draw(g, new Rectangle2D.Double(panelW, top, panelW, panelH));
        } finally {
            g.dispose();
        }
        write(image, file);
    }

    private static Color color(int tap) {
        return COLORS[tap % COLORS.length];
    }

    private static JFreeChart plane(Demo.Result r) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        int series = 0;
        for (int tap = 0; tap < r.taps(); tap++) {
            double[][] p = r.paths()[tap];
            XYSeries path = new XYSeries("tap " + tap, false, true);
            for (int i = 0; i < p[0].length; i++) {
                path.add(p[1][i], p[0][i]);
            }
            data.addSeries(path);
            renderer.setSeriesPaint(series, color(tap));
            renderer.setSeriesStroke(series, new BasicStroke(1.8f));
            series++;
            XYSeries start = new XYSeries("start " + tap, false, true);
            start.add(p[1][0], p[0][0]);
            data.addSeries(start);
            renderer.setSeriesLinesVisible(series, false);
            renderer.setSeriesShapesVisible(series, true);
            renderer.setSeriesShape(series, new Ellipse2D.Double(-5, -5, 10, 10));
            renderer.setSeriesShapesFilled(series, false);
            renderer.setSeriesPaint(series, color(tap));
            series++;
            double[] t = r.truth()[r.matched()[tap]];
            XYSeries truth = new XYSeries("true " + tap, false, true);
            truth.add(t[1], t[0]);
            data.addSeries(truth);
            renderer.setSeriesLinesVisible(series, false);
            renderer.setSeriesShapesVisible(series, true);
            renderer.setSeriesShape(series, cross(16));
            renderer.setSeriesPaint(series, color(tap));
            series++;
        }
        double lim = r.config().kernelSize() / 2 + 0.5;
        NumberAxis x = new NumberAxis("column offset from the kernel centre (px)");
        x.setRange(-lim, lim);
        NumberAxis y = new NumberAxis("row offset (px)");
        y.setRange(-lim, lim);
        y.setInverted(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        styleGrid(plot);
        return chart("Learned positions (lines, from circles) vs true (crosses)", plot);
    }

    private static JFreeChart overSteps(Demo.Result r) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        NumberAxis x = new NumberAxis("step");
        NumberAxis y = new NumberAxis("position, offset from the kernel centre (px)");
        double lim = r.config().kernelSize() / 2 + 0.5;
        y.setRange(-lim, lim);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        for (int tap = 0; tap < r.taps(); tap++) {
            XYSeries path = new XYSeries("tap " + tap, false, true);
            double[] p = r.paths()[tap][0];
            for (int i = 0; i < p.length; i++) {
                path.add(r.recorded()[i], p[i]);
            }
            data.addSeries(path);
            renderer.setSeriesPaint(tap, color(tap));
            renderer.setSeriesStroke(tap, new BasicStroke(1.8f));
            plot.addRangeMarker(new ValueMarker(r.truth()[r.matched()[tap]][0], color(tap), dashed(1.4f)));
        }
        styleGrid(plot);
        return chart("Learned positions (lines) vs true (dashed)", plot);
    }

    private static JFreeChart errors(Demo.Result r) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int tap = 0; tap < r.taps(); tap++) {
            XYSeries s = new XYSeries("tap " + tap, false, true);
            double[] e = r.errorPath(tap);
            for (int i = 0; i < e.length; i++) {
                s.add(r.recorded()[i], Math.max(e[i], 1e-6));
            }
            data.addSeries(s);
            renderer.setSeriesPaint(tap, color(tap));
            renderer.setSeriesStroke(tap, new BasicStroke(1.6f));
        }
        LogAxis y = new LogAxis("|learned - true| (px, log scale; 0.000001 = exact)");
        y.setBase(10);
        y.setSmallestValue(1e-6);
        y.setTickUnit(new NumberTickUnit(1));
        y.setNumberFormatOverride(new DecimalFormat("0.######"));
        NumberAxis x = new NumberAxis("step");
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.addRangeMarker(new ValueMarker(DemoCommand.TOLERANCE, Color.BLACK, dashed(1.2f)));
        styleGrid(plot);
        return chart("Position error per tap (dashed: the 0.1 px target)", plot);
    }

    private static JFreeChart chart(String title, XYPlot plot) {
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 15), plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static BasicStroke dashed(float width) {
        return new BasicStroke(width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f);
    }

    /** The loss of every step on a log axis, and the sigma schedule (if any) on a second axis. */
    static void loss(Demo.Result r, Path file, String heading) throws IOException {
        XYSeries loss = new XYSeries("MSE loss", false, true);
        double[] l = r.losses();
        int stride = Math.max(1, l.length / 2000);
        for (int i = 0; i < l.length; i += stride) {
            loss.add(i + 1, Math.max(l[i], 1e-30));
        }
        LogAxis y = new LogAxis("MSE loss (log scale)");
        y.setBase(10);
        y.setTickUnit(new NumberTickUnit(1));
        y.setNumberFormatOverride(new DecimalFormat("0E0"));
        NumberAxis x = new NumberAxis("step");
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setSeriesPaint(0, COLORS[0]);
        renderer.setSeriesStroke(0, new BasicStroke(1.2f));
        XYPlot plot = new XYPlot(new XYSeriesCollection(loss), x, y, renderer);
        if (r.sigmas() != null) {
            XYSeries sigma = new XYSeries("sigma (schedule, right axis)", false, true);
            for (int i = 0; i < r.sigmas().length; i += stride) {
                sigma.add(i + 1, r.sigmas()[i]);
            }
            NumberAxis sigmaAxis = new NumberAxis("sigma (px)");
            plot.setRangeAxis(1, sigmaAxis);
            plot.setDataset(1, new XYSeriesCollection(sigma));
            plot.mapDatasetToRangeAxis(1, 1);
            XYLineAndShapeRenderer sr = new XYLineAndShapeRenderer(true, false);
            sr.setSeriesPaint(0, COLORS[4]);
            sr.setSeriesStroke(0, dashed(1.6f));
            plot.setRenderer(1, sr);
        }
        styleGrid(plot);
        JFreeChart chart = new JFreeChart(heading, TITLE, plot, true);
        chart.addSubtitle(new TextTitle(String.format("final loss %.3g after %d steps", l[l.length - 1], l.length),
                SUBTITLE));
        chart.setBackgroundPaint(Color.WHITE);
        BufferedImage image = chart.createBufferedImage(1000, 560);
        write(image, file);
    }

    private static void styleGrid(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setOutlinePaint(Color.GRAY);
    }

    private static Shape cross(double size) {
        GeneralPath p = new GeneralPath();
        double s = size / 2;
        double t = size / 7;
        p.moveTo(-s, -s + t);
        p.lineTo(-s + t, -s);
        p.lineTo(0, -t);
        p.lineTo(s - t, -s);
        p.lineTo(s, -s + t);
        p.lineTo(t, 0);
        p.lineTo(s, s - t);
        p.lineTo(s - t, s);
        p.lineTo(0, t);
        p.lineTo(-s + t, s);
        p.lineTo(-s, s - t);
        p.lineTo(-t, 0);
        p.closePath();
        return p;
    }

    private static void write(BufferedImage image, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer available");
        }
    }
}
