package io.dcls4j;

import java.util.Arrays;

/**
 * Loading parameters trained with the PyTorch reference into a layer (its state_dict's {@code weight}, {@code P},
 * {@code SIG} and {@code bias}, C order): the checks of what is given against what the layer has, and the copy,
 * with P and SIG converted from the reference's axis order by {@link PyTorchLayout}.
 */
final class ReferenceImport {
    private ReferenceImport() {}

    /**
     * Checks everything, then loads: a layer's parameters ({@code sigma} and {@code bias} null when it has none)
     * from the reference's arrays, which must be null exactly where the layer has no such parameter.
     */
    static void load(Interpolation interpolation, int[] dilatedKernelSize, Parameter weight, Parameter positions,
                     Parameter sigma, Parameter bias, float[] weightValues, float[] referenceP, float[] referenceSig,
                     float[] biasValues) {
        requireSameParameters(interpolation, sigma, referenceSig, bias, biasValues);
        checkLength("weight", weightValues, weight.value());
        checkLength("P", referenceP, positions.value());
        if (sigma != null) {
            checkLength("SIG", referenceSig, sigma.value());
        }
        if (bias != null) {
            checkLength("bias", biasValues, bias.value());
        }
        weight.value().copyFrom(weightValues);
        positions.value().copyFrom(PyTorchLayout.positionsFromReference(interpolation, dilatedKernelSize, referenceP));
        if (sigma != null) {
            sigma.value().copyFrom(PyTorchLayout.sigmaFromReference(interpolation, dilatedKernelSize, referenceSig));
        }
        if (bias != null) {
            bias.value().copyFrom(biasValues);
        }
    }

    /** Throws unless SIG is given exactly when the layer has a sigma, and a bias exactly when it has one. */
    static void requireSameParameters(Interpolation interpolation, Parameter sigma, float[] referenceSig,
                                      Parameter bias, float[] biasValues) {
        if ((referenceSig == null) != (sigma == null)) {
            throw new IllegalArgumentException(sigma == null ? "SIG given, but " + interpolation + " has no sigma"
                    : "SIG missing: " + interpolation + " needs it");
        }
        if ((biasValues == null) != (bias == null)) {
            throw new IllegalArgumentException(bias == null ? "bias given, but the layer has none"
                    : "bias missing: the layer has one");
        }
    }

    /** Throws unless {@code values} has one value per element of {@code target}. */
    static void checkLength(String name, float[] values, Tensor target) {
        if (values == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (values.length != target.elementCount()) {
            throw new IllegalArgumentException(name + " has " + values.length + " values, expected "
                    + target.elementCount() + " for shape " + Arrays.toString(target.shape()));
        }
    }
}
