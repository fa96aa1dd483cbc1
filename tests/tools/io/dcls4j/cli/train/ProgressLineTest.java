package io.dcls4j.cli.train;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The progress line with a clock the test moves: what is printed, when, and the ETA arithmetic. */
class ProgressLineTest {
    private long now;
    private final StringWriter text = new StringWriter();

    private ProgressLine line(boolean terminal) {
        return new ProgressLine(new PrintWriter(text), terminal, "epoch 3/20", 200, 10_000_000_000L, () -> now);
    }

    private static long seconds(double s) {
        return (long) (s * 1e9);
    }

    @Test
    void logOutputIsOneLinePerIntervalWithStepLossAccuracyRateAndEta() {
        ProgressLine p = line(false);
        now = seconds(5);
        p.update(25, 0.9, 0.5, 1000);
        assertEquals("", text.toString(), "nothing before the interval has passed");
        now = seconds(10);
        p.update(50, 0.41234, 0.85214, 1234.4);
        // 50 steps in 10 s: 0.2 s a step, 150 left: 30 s
        assertEquals("epoch 3/20 [#####...............] 50/200  loss 0.4123  acc 85.21%  1234 img/s  ETA 0:30"
                + System.lineSeparator(), text.toString());
        now = seconds(15);
        p.update(75, 0.3, 0.86, 1300);
        assertEquals(1, text.toString().lines().count(), "the next line waits for another interval");
        now = seconds(40);
        p.update(200, 0.25, Double.NaN, 1250);
        p.finish();
        p.finish();
        String[] lines = text.toString().split(System.lineSeparator());
        assertEquals(3, lines.length, text.toString());
        assertEquals("epoch 3/20 [####################] 200/200  loss 0.2500  1250 img/s  took 0:40", lines[2]);
        assertFalse(text.toString().contains("\r"));
    }

    @Test
    void aTerminalLineIsRedrawnInPlaceAndEndedByFinish() {
        ProgressLine p = line(true);
        now = seconds(0.05);
        p.update(1, 2.5, 0.1, 100);
        assertEquals("", text.toString(), "redraws at most 10 times a second");
        now = seconds(0.2);
        p.update(2, 2.31234, 0.125, 120);
        String first = text.toString();
        assertTrue(first.startsWith("\repoch 3/20 [....................] 2/200  loss 2.3123  acc 12.50%  120 img/s"
                + "  ETA 0:20"), first); // 0.1 s a step, 198 left
        assertFalse(first.contains("\n"));
        now = seconds(3600 + 0.4);
        p.update(150, 0.5, 0.8, 99);
        String second = text.toString().substring(first.length());
        // 24 s a step, 50 left: 20 min
        assertTrue(second.startsWith("\repoch 3/20 [###############.....] 150/200  loss 0.5000  acc 80.00%"
                + "  99 img/s  ETA 20:00"), second);
        assertTrue(second.length() >= first.length(), "a shorter line is padded over the longer one before it");
        p.finish();
        assertTrue(text.toString().endsWith(System.lineSeparator()));
    }

    @Test
    void clockFormat() {
        assertEquals("0:00", ProgressLine.clock(0));
        assertEquals("1:05", ProgressLine.clock(seconds(65)));
        assertEquals("1:01:01", ProgressLine.clock(seconds(3661)));
    }
}
