package io.dcls4j.ops;

import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The configurations' tensor shapes, against torch's formulas written out by hand. */
class ConfigShapesTest {
    @Test
    void convolutionShapes() {
        // torch.nn.Conv2d(6, 9, (5, 3), stride=(2, 1), padding=(2, 0), groups=3) on (4, 6, 11, 8):
        // out = floor((11 + 4 - 5) / 2) + 1 = 6, floor((8 + 0 - 3) / 1) + 1 = 6; weight (9, 2, 5, 3)
        ConvConfig c = new ConvConfig(4, 6, 9, 3, new int[] {11, 8}, new int[] {5, 3}, new int[] {2, 1},
                new int[] {2, 0}, PaddingMode.ZEROS);
        assertArrayEquals(new long[] {4, 6, 11, 8}, c.inputShape());
        assertArrayEquals(new long[] {4, 9, 6, 6}, c.outputShape());
        assertArrayEquals(new long[] {9, 2, 5, 3}, c.kernelShape());
        ConvConfig oneD = new ConvConfig(2, 3, 5, 1, new int[] {30}, new int[] {7}, new int[] {3}, new int[] {1},
                PaddingMode.CIRCULAR);
        assertArrayEquals(new long[] {2, 5, 9}, oneD.outputShape()); // floor((30 + 2 - 7) / 3) + 1
    }

    @Test
    void constructionShapes() {
        ConstructConfig c = new ConstructConfig(Interpolation.GAUSSIAN, 8, 2, 5, new int[] {7, 9, 3});
        assertArrayEquals(new long[] {8, 2, 5}, c.weightShape());
        assertArrayEquals(new long[] {3, 8, 2, 5}, c.positionShape());
        assertArrayEquals(new long[] {8, 2, 7, 9, 3}, c.kernelShape());
    }
}
