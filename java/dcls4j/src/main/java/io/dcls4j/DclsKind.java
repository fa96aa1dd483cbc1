package io.dcls4j;

/**
 * The layer kinds of the PyTorch DCLS reference, each a {@link DclsConv} configured by its builder:
 *
 * <table>
 *   <caption>Kinds and how to build them</caption>
 *   <tr><th>kind</th><th>builder</th><th>kernel (Cout, Cin/g, ...)</th><th>learnable axis</th></tr>
 *   <tr><td>Dcls1d / 2d / 3d</td><td>{@code dilatedKernelSize(L...)} with 1 to 3 sizes</td>
 *       <td>(L...)</td><td>every axis</td></tr>
 *   <tr><td>Dcls2_1d</td><td>{@code dilatedKernelSize(L).denseKernelSize(D)}</td><td>(D, L)</td>
 *       <td>the last (W); H is a dense kernel of D cells</td></tr>
 *   <tr><td>Dcls3_1d</td><td>{@code dilatedKernelSize(L).denseKernelSize(D0, D1)}</td><td>(D0, D1, L)</td>
 *       <td>the last (W); D and H are dense</td></tr>
 *   <tr><td>Dcls2dK1d</td><td>{@code dilatedKernelSize(L).flatDim(f)}</td><td>(L, 1) if f = 0, (1, L) if f = 1</td>
 *       <td>H if f = 0, W if f = 1</td></tr>
 * </table>
 *
 * <p>Dcls2_1d and Dcls3_1d keep, per dense cell, their own {@code kernelCount} elements on the learnable axis:
 * weight (Cout, Cin/g, dense..., K), positions and sigma (1, Cout, Cin/g, dense..., K), positions initialised
 * uniformly in +-L/2. Their Gaussian has standard deviation {@code |sigma| + 1} in Dcls2_1d and
 * {@code |sigma| + 0.27} in Dcls3_1d, as in the reference. Dcls2dK1d has the parameters of a Dcls1d.
 * Every kind normalises over its learnable axis only, and every kind takes every {@link Interpolation}
 * (the reference has no bilinear for Dcls2_1d and Dcls3_1d; dcls4j's follows v0's conventions).
 */
public enum DclsKind {
    DCLS1D("Dcls1d"),
    DCLS2D("Dcls2d"),
    DCLS3D("Dcls3d"),
    DCLS2_1D("Dcls2_1d"),
    DCLS3_1D("Dcls3_1d"),
    DCLS2DK1D("Dcls2dK1d");

    private final String referenceName;

    DclsKind(String referenceName) {
        this.referenceName = referenceName;
    }

    /** The class name of the reference's module, e.g. {@code Dcls2_1d}. */
    public String referenceName() {
        return referenceName;
    }

    /** Looks a kind up by the reference's module name. */
    public static DclsKind fromReferenceName(String name) {
        for (DclsKind k : values()) {
            if (k.referenceName.equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown DCLS module '" + name
                + "': expected Dcls1d, Dcls2d, Dcls3d, Dcls2_1d, Dcls3_1d or Dcls2dK1d");
    }
}
