package io.dcls4j.cli.train;

import io.dcls4j.Parameter;
import io.dcls4j.nn.ConvNeXtDcls;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The learned tap positions of the first stage's DCLS convolution for a few channels, copied at one moment, and a
 * picture of two such moments: each channel's taps at the start (open circles) and at the end (dots), in kernel
 * coordinates (0 at the centre).
 */
public final class PositionSnapshot {
    static final int CHANNELS = 4;
    private static final String FIRST_POSITIONS = "stages.0.0.dwconv.P";
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0x9467bd)};

    private final float[][] rows;   // per channel: the K taps along axis 0
    private final float[][] cols;   // along axis 1

    private PositionSnapshot(float[][] rows, float[][] cols) {
        this.rows = rows;
        this.cols = cols;
    }

    /** A copy of the positions of the first {@value #CHANNELS} channels of stage 0 (dcls4j's layout: (2, C, 1, K)). */
    public static PositionSnapshot of(ConvNeXtDcls model) {
        Parameter p = model.namedParameters().get(FIRST_POSITIONS);
        if (p == null) {
            throw new IllegalStateException("the model has no " + FIRST_POSITIONS);
        }
        long[] shape = p.value().shape();
        int channels = (int) Math.min(CHANNELS, shape[1]);
        int k = (int) shape[3];
        float[] all = p.value().toFloatArray();
        float[][] rows = new float[channels][k];
        float[][] cols = new float[channels][k];
        long perAxis = shape[1] * shape[2] * shape[3];
        for (int c = 0; c < channels; c++) {
            for (int t = 0; t < k; t++) {
                rows[c][t] = all[(int) (c * shape[2] * k + t)];
                cols[c][t] = all[(int) (perAxis + c * shape[2] * k + t)];
            }
        }
        return new PositionSnapshot(rows, cols);
    }

    /** Draws {@code start} and {@code end} into a PNG. */
    public static void chart(PositionSnapshot start, PositionSnapshot end, Path file, int kernelSize)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        int series = 0;
        for (int c = 0; c < end.rows.length; c++) {
            for (PositionSnapshot s : new PositionSnapshot[] {start, end}) {
                boolean isEnd = s == end;
                XYSeries xy = new XYSeries("channel " + c + (isEnd ? ", end" : ", start"));
                for (int t = 0; t < s.rows[c].length; t++) {
                    xy.add(s.cols[c][t], s.rows[c][t]);
                }
                data.addSeries(xy);
                renderer.setSeriesPaint(series, COLORS[c % COLORS.length]);
                renderer.setSeriesShape(series, new Ellipse2D.Double(-4, -4, 8, 8));
                renderer.setSeriesShapesFilled(series, isEnd);
                series++;
            }
        }
        double half = kernelSize / 2.0;
        NumberAxis x = new NumberAxis("column (kernel cells, 0 = centre)");
        NumberAxis y = new NumberAxis("row");
        x.setRange(-half, half);
        y.setRange(-half, half);
        y.setInverted(true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle("Learned DCLS tap positions, stage 1, first " + end.rows.length
                + " channels: start (open) and end (filled)", new Font(Font.SANS_SERIF, Font.BOLD, 14)));
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 720, 720);
    }
}
