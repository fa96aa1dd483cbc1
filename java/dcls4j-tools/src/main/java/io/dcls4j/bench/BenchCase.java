package io.dcls4j.bench;

import io.dcls4j.Interpolation;
import io.dcls4j.PaddingMode;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.util.Arrays;
import java.util.List;

/** One benchmarked DCLS layer shape: the configurations of the issues' acceptance criteria. */
public record BenchCase(String name, Interpolation interpolation, int batch, int inChannels, int outChannels,
                        int groups, int kernelCount, int[] dilatedKernelSize, int[] padding, int[] inputSize,
                        boolean spread) {

    /** A case with the reference's initial positions (normal around the centre, sigma 0.5). */
    BenchCase(String name, Interpolation interpolation, int batch, int inChannels, int outChannels, int groups,
              int kernelCount, int[] dilatedKernelSize, int[] padding, int[] inputSize) {
        this(name, interpolation, batch, inChannels, outChannels, groups, kernelCount, dilatedKernelSize, padding,
                inputSize, false);
    }

    /**
     * The suite: depthwise 17x17 (ConvNeXt-DCLS), dense 9x9, 1D size 41 (audio, delays), with the reference's
     * initial positions; and the bilinear depthwise and the 1D cases with positions spread over the whole kernel,
     * as after training, where the convolution cannot skip the kernel's empty border.
     */
    public static final List<BenchCase> SUITE = List.of(
            new BenchCase("dw17-v0", Interpolation.BILINEAR, 8, 96, 96, 96, 34, new int[] {17, 17}, new int[] {8, 8},
                    new int[] {56, 56}),
            new BenchCase("dw17-v0-spread", Interpolation.BILINEAR, 8, 96, 96, 96, 34, new int[] {17, 17},
                    new int[] {8, 8}, new int[] {56, 56}, true),
            new BenchCase("dw17-gauss", Interpolation.GAUSSIAN, 8, 96, 96, 96, 34, new int[] {17, 17},
                    new int[] {8, 8}, new int[] {56, 56}),
            new BenchCase("dense9-gauss", Interpolation.GAUSSIAN, 8, 64, 64, 1, 9, new int[] {9, 9}, new int[] {4, 4},
                    new int[] {32, 32}),
            new BenchCase("conv1d-gauss", Interpolation.GAUSSIAN, 16, 64, 64, 1, 8, new int[] {41}, new int[] {20},
                    new int[] {1024}),
            new BenchCase("conv1d-gauss-spread", Interpolation.GAUSSIAN, 16, 64, 64, 1, 8, new int[] {41},
                    new int[] {20}, new int[] {1024}, true));

    public static BenchCase named(String name) {
        return SUITE.stream().filter(c -> c.name.equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown bench case '" + name + "'; known: "
                        + SUITE.stream().map(BenchCase::name).toList()));
    }

    public ConstructConfig constructConfig() {
        return new ConstructConfig(interpolation, outChannels, inChannels / groups, kernelCount, dilatedKernelSize);
    }

    public ConvConfig convConfig() {
        int[] ones = new int[inputSize.length];
        Arrays.fill(ones, 1);
        return new ConvConfig(batch, inChannels, outChannels, groups, inputSize, dilatedKernelSize, ones, padding,
                PaddingMode.ZEROS);
    }

    public long[] inputShape() {
        long[] s = new long[2 + inputSize.length];
        s[0] = batch;
        s[1] = inChannels;
        for (int d = 0; d < inputSize.length; d++) {
            s[2 + d] = inputSize[d];
        }
        return s;
    }

    /** Multiply-adds of one dense convolution pass (forward, or either backward). */
    public double denseMacs() {
        ConvConfig c = convConfig();
        double macs = (double) c.outputLength() * (inChannels / groups);
        for (int k : dilatedKernelSize) {
            macs *= k;
        }
        return macs;
    }

    /** A one-line description for tables. */
    public String describe() {
        return "Dcls" + inputSize.length + "d " + inChannels + "->" + outChannels + (groups > 1 ? " g=" + groups : "")
                + " K=" + kernelCount + " " + Arrays.toString(dilatedKernelSize) + " pad " + Arrays.toString(padding)
                + " N=" + batch + " in " + Arrays.toString(inputSize) + " " + interpolation.referenceName()
                + (spread ? ", positions uniform over the kernel" : "");
    }
}
