package io.dcls4j;

import java.util.Arrays;

/**
 * The rules of layers sharing positions ({@link DclsConv.Builder#sharePositionsWith}): the positions (and sigma)
 * belong to one owner, never to a layer that itself shares, and a layer may share them only if its positions have
 * the owner's shape, kernel size and device, and the owner has a sigma if the layer's interpolation needs one.
 */
final class PositionSharing {
    private PositionSharing() {}

    /** The layer that owns the positions {@code layer} uses: itself unless it shares another's. */
    static DclsConv owner(DclsConv layer) {
        return layer.positionOwner() == null ? layer : layer.positionOwner();
    }

    /**
     * Throws unless a layer of these settings may share the positions {@code requested} uses: an
     * {@link IllegalStateException} if either is closed, else an {@link IllegalArgumentException} saying what differs.
     */
    static void check(DclsConv requested, long[] positionShape, int[] dilatedKernelSize, Device device,
                      Interpolation interpolation) {
        DclsConv owner = owner(requested);
        if (requested.isClosed() || owner.isClosed()) {
            throw new IllegalStateException("cannot share the positions of a closed DclsConv");
        }
        long[] theirs = owner.positions().value().shape();
        if (!Arrays.equals(positionShape, theirs)) {
            throw new IllegalArgumentException("cannot share positions: this layer's positions have shape "
                    + Arrays.toString(positionShape) + ", the owner's " + Arrays.toString(theirs));
        }
        if (!Arrays.equals(dilatedKernelSize, owner.dilatedKernelSize())) {
            throw new IllegalArgumentException("cannot share positions: dilated kernel size "
                    + Arrays.toString(dilatedKernelSize) + " differs from the owner's "
                    + Arrays.toString(owner.dilatedKernelSize()));
        }
        if (!owner.device().equals(device)) {
            throw new IllegalArgumentException("cannot share positions: the owner is on " + owner.device()
                    + ", this layer on " + device);
        }
        if (interpolation != null && interpolation.learnsSigma() && owner.sigma() == null) {
            throw new IllegalArgumentException("cannot share positions: " + interpolation
                    + " needs a sigma, but the owner (" + owner.interpolation() + ") has none");
        }
    }
}
