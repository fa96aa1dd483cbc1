package io.dcls4j.reference;

import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.Interpolation;

import java.util.Objects;

/**
 * Pure-Java float64 construction of the dense DCLS kernel from weights, positions and (optionally) sigmas,
 * and its exact gradient. Written for clarity: this is the test oracle and the benchmark baseline.
 *
 * <h2>Convention</h2>
 * Arrays are in C order with shapes weight {@code (Cout, Cin/g, K)}, positions and sigma
 * {@code (ndim, Cout, Cin/g, K)}, kernel {@code (Cout, Cin/g, dks...)} where {@code dks} is
 * {@link ConstructConfig#dilatedKernelSize()}. Position component {@code P[d]} moves along spatial axis
 * {@code d}; element {@code e} of a channel pair is centred at {@code c_d = P[d] + dks[d] / 2} (integer division).
 *
 * <h2>Interpolations</h2>
 * Every interpolation spreads an element over the grid with a separable profile
 * {@code u(idx) = prod_d f(idx_d - c_d, sigma_d)}:
 * <ul>
 *   <li>{@code BILINEAR}: {@code 1 - r} at {@code floor(c)}, {@code r} at {@code floor(c) + 1} (r = c - floor(c)),
 *       zero elsewhere; cells off the grid are dropped; not normalised.</li>
 *   <li>{@code TRIANGLE}: {@code relu(1 - |x|)}, normalised.</li>
 *   <li>{@code TRIANGLE_LEARNED_WIDTH}: {@code relu(|sigma| + 1 - |x|)}, normalised.</li>
 *   <li>{@code GAUSSIAN}: {@code exp(-0.5 (x / (|sigma| + 0.27))^2)}, normalised ({@code + 1.0} instead of
 *       {@code + 0.27} where {@link ConstructConfig#gaussianSigmaOffset()} says so).</li>
 * </ul>
 * "Normalised" means the element contributes {@code w * u / (S + 1e-7)} with {@code S} the sum of {@code u} over
 * the whole grid; the gradient differentiates through {@code S}.
 *
 * <h2>Kinks</h2>
 * Gradients follow PyTorch autograd's conventions: {@code d|x|/dx = 0} at 0, {@code relu'(0) = 0},
 * {@code d|sigma|/dsigma = signum(sigma)}, and {@code floor} has zero gradient (so {@code BILINEAR} takes the
 * right-sided derivative at integer positions).
 */
public final class ReferenceConstruct {

    /** Added to the normalising sum, as in the PyTorch reference. */
    public static final double NORMALISATION_EPSILON = 1e-7;

    /** Added to {@code |sigma|} for {@link Interpolation#GAUSSIAN}, as in the PyTorch reference. */
    public static final double GAUSSIAN_SIGMA_OFFSET = 0.27;

    private ReferenceConstruct() {
    }

    /** Gradients of a scalar loss with respect to the construction's inputs; {@code sigma} is null if unused. */
    public record ConstructGradients(double[] weight, double[] positions, double[] sigma) {
    }

    /**
     * Builds the dense kernel.
     *
     * @param c         the construction's shape
     * @param weight    {@code (Cout, Cin/g, K)}
     * @param positions {@code (ndim, Cout, Cin/g, K)}, in dcls4j's convention (P[d] moves along axis d)
     * @param sigma     {@code (ndim, Cout, Cin/g, K)} for interpolations that {@linkplain Interpolation#learnsSigma()
     *                  learn sigma}, otherwise null
     * @return the kernel {@code (Cout, Cin/g, dks...)}
     */
    public static double[] forward(ConstructConfig c, double[] weight, double[] positions, double[] sigma) {
        checkInputs(c, weight, positions, sigma);
        int volume = c.kernelVolume();
        double[] kernel = new double[c.kernelLength()];
        for (int e = 0; e < c.elementCount(); e++) {
            int pair = e / c.kernelCount();
            Spread spread = spread(c, positions, sigma, e);
            double scale = weight[e] / spread.normaliser();
            for (int cell = 0; cell < volume; cell++) {
                kernel[pair * volume + cell] += scale * spread.u[cell];
            }
        }
        return kernel;
    }

    /**
     * The gradients of {@code L = sum(kernel * gradKernel)} with respect to weight, positions and sigma.
     *
     * @param gradKernel the upstream gradient, shaped like the kernel
     */
    public static ConstructGradients backward(ConstructConfig c, double[] weight, double[] positions, double[] sigma,
                                              double[] gradKernel) {
        checkInputs(c, weight, positions, sigma);
        Objects.requireNonNull(gradKernel, "gradKernel");
        checkLength("gradKernel", gradKernel, c.kernelLength());
        int ndim = c.ndim();
        int elements = c.elementCount();
        int volume = c.kernelVolume();
        boolean learnsSigma = c.interpolation().learnsSigma();
        double[] gradWeight = new double[elements];
        double[] gradPositions = new double[ndim * elements];
        double[] gradSigma = learnsSigma ? new double[ndim * elements] : null;

        for (int e = 0; e < elements; e++) {
            int pair = e / c.kernelCount();
            Spread spread = spread(c, positions, sigma, e);
            double w = weight[e];
            double denominator = spread.normaliser();

            // L_e = w * N / D with N = sum_cell g * u and D = S + eps (or 1 without normalisation).
            double n = 0;
            for (int cell = 0; cell < volume; cell++) {
                n += gradKernel[pair * volume + cell] * spread.u[cell];
            }
            gradWeight[e] = n / denominator;

            for (int cell = 0; cell < volume; cell++) {
                // dL/du(cell): with normalisation dL/du = w * (g - N / D) / D, since dD/du = 1 for every cell.
                double g = gradKernel[pair * volume + cell];
                double dLdu = spread.normalised ? w * (g - n / denominator) / denominator : w * g;
                for (int d = 0; d < ndim; d++) {
                    gradPositions[d * elements + e] += dLdu * spread.dudc[d][cell];
                    if (learnsSigma) {
                        gradSigma[d * elements + e] += dLdu * spread.duds[d][cell];
                    }
                }
            }
        }
        return new ConstructGradients(gradWeight, gradPositions, gradSigma);
    }

    // ------------------------------------------------------------------------------------------------------------

    /** The profile of one element over the whole grid and its derivatives with respect to c_d and sigma_d. */
    private record Spread(boolean normalised, double[] u, double[][] dudc, double[][] duds, double sum) {
        double normaliser() {
            return normalised ? sum + NORMALISATION_EPSILON : 1.0;
        }
    }

    /** The value of a 1-D profile at offset {@code x = idx - c} and its derivatives with respect to c and sigma. */
    private record Profile1d(double value, double dValueDc, double dValueDsigma) {
    }

    private static Spread spread(ConstructConfig c, double[] positions, double[] sigma, int e) {
        int ndim = c.ndim();
        int[] dks = c.dilatedKernelSize();
        int elements = c.elementCount();
        int volume = c.kernelVolume();
        Interpolation interpolation = c.interpolation();

        // Per axis, the 1-D profile at every grid index along that axis.
        Profile1d[][] axisProfiles = new Profile1d[ndim][];
        for (int d = 0; d < ndim; d++) {
            double centre = positions[d * elements + e] + dks[d] / 2;
            double s = sigma == null ? 0.0 : sigma[d * elements + e];
            axisProfiles[d] = new Profile1d[dks[d]];
            for (int idx = 0; idx < dks[d]; idx++) {
                axisProfiles[d][idx] = profile1d(interpolation, c.gaussianSigmaOffset(), idx, centre, s);
            }
        }

        // The separable product over the grid, and its derivative along each axis.
        double[] u = new double[volume];
        double[][] dudc = new double[ndim][volume];
        double[][] duds = new double[ndim][volume];
        double sum = 0;
        int[] idx = new int[ndim];
        for (int cell = 0; cell < volume; cell++) {
            unravel(cell, dks, idx);
            double value = 1;
            for (int d = 0; d < ndim; d++) {
                value *= axisProfiles[d][idx[d]].value();
            }
            u[cell] = value;
            sum += value;
            for (int d = 0; d < ndim; d++) {
                double others = 1; // product over the other axes (not a division, which would fail at zeros)
                for (int other = 0; other < ndim; other++) {
                    if (other != d) {
                        others *= axisProfiles[other][idx[other]].value();
                    }
                }
                dudc[d][cell] = others * axisProfiles[d][idx[d]].dValueDc();
                duds[d][cell] = others * axisProfiles[d][idx[d]].dValueDsigma();
            }
        }
        boolean normalised = interpolation != Interpolation.BILINEAR;
        return new Spread(normalised, u, dudc, duds, sum);
    }

    private static Profile1d profile1d(Interpolation interpolation, double gaussianSigmaOffset, int idx, double centre,
                                       double sigma) {
        double x = idx - centre;
        switch (interpolation) {
            case BILINEAR -> {
                double floor = Math.floor(centre);
                double r = centre - floor; // dr/dc = 1: floor has zero gradient
                if (idx == floor) {
                    return new Profile1d(1 - r, -1, 0);
                } else if (idx == floor + 1) {
                    return new Profile1d(r, 1, 0);
                } else {
                    return new Profile1d(0, 0, 0);
                }
            }
            case TRIANGLE -> {
                // relu(1 - |x|); d/dc = relu'(a) * sign(x) with relu'(0) = 0 and sign(0) = 0.
                double a = 1 - Math.abs(x);
                return a > 0 ? new Profile1d(a, Math.signum(x), 0) : new Profile1d(0, 0, 0);
            }
            case TRIANGLE_LEARNED_WIDTH -> {
                // relu(|s| + 1 - |x|); d/dc = relu'(a) * sign(x), d/ds = relu'(a) * signum(s).
                double a = Math.abs(sigma) + 1 - Math.abs(x);
                return a > 0 ? new Profile1d(a, Math.signum(x), Math.signum(sigma)) : new Profile1d(0, 0, 0);
            }
            case GAUSSIAN -> {
                // exp(-z^2 / 2) with z = x / width, width = |s| + 0.27 (+ 1 for the reference's Dcls2_1d);
                // dz/dc = -1 / width, dz/ds = -z / width * signum(s).
                double width = Math.abs(sigma) + gaussianSigmaOffset;
                double z = x / width;
                double value = Math.exp(-0.5 * z * z);
                return new Profile1d(value, value * z / width, value * z * z / width * Math.signum(sigma));
            }
            default -> throw new IllegalStateException("unknown interpolation " + interpolation);
        }
    }

    /** Row-major multi-index of {@code flat} in a grid of the given sizes. */
    private static void unravel(int flat, int[] sizes, int[] idx) {
        for (int d = sizes.length - 1; d >= 0; d--) {
            idx[d] = flat % sizes[d];
            flat /= sizes[d];
        }
    }

    private static void checkInputs(ConstructConfig c, double[] weight, double[] positions, double[] sigma) {
        Objects.requireNonNull(c, "config");
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(positions, "positions");
        checkLength("weight", weight, c.elementCount());
        checkLength("positions", positions, c.positionLength());
        if (c.interpolation().learnsSigma()) {
            if (sigma == null) {
                throw new IllegalArgumentException(c.interpolation() + " needs sigma");
            }
            checkLength("sigma", sigma, c.positionLength());
        } else if (sigma != null) {
            throw new IllegalArgumentException(c.interpolation() + " has no sigma: pass null");
        }
    }

    private static void checkLength(String name, double[] array, int expected) {
        if (array.length != expected) {
            throw new IllegalArgumentException(name + " has length " + array.length + ", expected " + expected);
        }
    }
}
