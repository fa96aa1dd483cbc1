package io.dcls4j;

import io.dcls4j.ops.Convolution;
import io.dcls4j.ops.ConvConfig;
import io.dcls4j.reference.ReferenceConv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;

import static io.dcls4j.Compare.close;
import static io.dcls4j.Compare.toDouble;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Dcls#setEngineOption}: every engine choice gives the reference's convolution (the DFT one
 * forced on, everything of dcls4j's off), and bad names and values are refused.
 */
class EngineOptionTest {
    private static final String[] OPTIONS =
            {"dft_conv", "depthwise_conv", "depthwise_backward_weights", "dense_backward_weights"};

    @AfterEach
    void restore() {
        for (String option : OPTIONS) {
            Dcls.setEngineOption(option, "auto");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dft_conv=always", "all=never", "dense_backward_weights=always"})
    void everyChoiceMatchesTheReference(String setting) {
        String[] kv = setting.split("=");
        for (String option : OPTIONS) {
            if (kv[0].equals("all") || kv[0].equals(option)) {
                Dcls.setEngineOption(option, kv[1]);
            }
        }
        SplittableRandom r = new SplittableRandom(setting.hashCode());
        ConvConfig[] configs = {
                new ConvConfig(2, 5, 6, 1, new int[] {11, 9}, new int[] {7, 5}, new int[] {1, 1}, new int[] {3, 2},
                        PaddingMode.ZEROS),
                new ConvConfig(1, 3, 4, 1, new int[] {30}, new int[] {13}, new int[] {1}, new int[] {6},
                        PaddingMode.CIRCULAR),
                new ConvConfig(2, 6, 6, 6, new int[] {12, 12}, new int[] {9, 9}, new int[] {1, 1}, new int[] {4, 4},
                        PaddingMode.REFLECT),
                // long enough for overlap-save blocks (blocked_conv1d.cpp)
                new ConvConfig(2, 3, 4, 1, new int[] {200}, new int[] {21}, new int[] {1}, new int[] {10},
                        PaddingMode.REPLICATE)};
        for (ConvConfig config : configs) {
            try (Arena arena = Arena.ofConfined(); Convolution conv = new Convolution(config)) {
                float[] x = random(r, conv.inputShape());
                float[] k = random(r, conv.kernelShape());
                float[] b = random(r, new long[] {config.outChannels()});
                float[] gy = random(r, conv.outputShape());
                Tensor xt = Tensor.allocate(arena, conv.inputShape()).copyFrom(x);
                Tensor kt = Tensor.allocate(arena, conv.kernelShape()).copyFrom(k);
                Tensor bt = Tensor.allocate(arena, config.outChannels()).copyFrom(b);
                Tensor gyt = Tensor.allocate(arena, conv.outputShape()).copyFrom(gy);
                Tensor y = Tensor.allocate(arena, conv.outputShape());
                Tensor gx = Tensor.allocate(arena, conv.inputShape());
                Tensor gk = Tensor.allocate(arena, conv.kernelShape());
                Tensor gb = Tensor.allocate(arena, config.outChannels());
                conv.forward(xt, kt, bt, y);
                conv.backwardData(gyt, kt, gx);
                conv.backwardWeights(xt, gyt, gk, gb, false);
                assertEngines(setting, config, conv.engineInfo());
                close(setting + " y", ReferenceConv.forward(config, toDouble(x), toDouble(k), toDouble(b)),
                        y.toFloatArray());
                close(setting + " grad_x", ReferenceConv.backwardData(config, toDouble(gy), toDouble(k)),
                        gx.toFloatArray());
                close(setting + " grad_kernel", ReferenceConv.backwardWeights(config, toDouble(x), toDouble(gy)),
                        gk.toFloatArray());
                close(setting + " grad_bias", ReferenceConv.backwardBias(config, toDouble(gy)), gb.toFloatArray());
            }
        }
    }

    /** The plan reports the engine each setting asks for (dcls_conv_plan_info), pass by pass. */
    private static void assertEngines(String setting, ConvConfig config, String info) {
        String[] passes = info.split(" ");
        assertEquals(3, passes.length, info);
        assertTrue(passes[0].startsWith("forward=") && passes[1].startsWith("backward_data=")
                && passes[2].startsWith("backward_weights="), info);
        boolean dense = config.groups() == 1;
        switch (setting) {
            case "all=never" -> assertFalse(info.contains("dcls:"), "oneDNN alone must run: " + info);
            case "dft_conv=always" -> assertEquals(dense, passes[0].startsWith("forward=dcls:dft"),
                    "the DFT takes every dense stride-1 shape and no grouped one: " + info);
            case "dense_backward_weights=always" -> {
                if (dense) {
                    assertTrue(passes[2].startsWith("backward_weights=dcls:"), info);
                }
            }
            default -> throw new AssertionError(setting);
        }
    }

    @Test
    void badNamesAndValuesAreRefused() {
        var value = assertThrows(DclsException.class, () -> Dcls.setEngineOption("dft_conv", "sometimes"));
        assertTrue(value.getMessage().contains("dft_conv takes auto, never or always"), value.getMessage());
        assertThrows(DclsException.class, () -> Dcls.setEngineOption("depthwise_conv", "always"));
        var name = assertThrows(DclsException.class, () -> Dcls.setEngineOption("winograd", "never"));
        assertTrue(name.getMessage().contains("unknown engine option 'winograd'"), name.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Dcls.setEngineOption(null, "never"));
    }

    private static float[] random(SplittableRandom r, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        return v;
    }
}
