/**
 * dcls4j: Dilated Convolution with Learnable Spacings for Java 25, native (oneDNN on CPU, CUDA and cuDNN on
 * GPU) through java.lang.foreign.
 *
 * <p>Run with {@code --enable-native-access=io.dcls4j} (or {@code ALL-UNNAMED} on the class path). The pure-Java
 * backend ({@link io.dcls4j.Backend#VECTOR_API}) also needs {@code --add-modules jdk.incubator.vector}; nothing else
 * does.
 *
 * <p>Exported: the API ({@code io.dcls4j}), the functional ops, optimizers, checkpoints, NumPy files, datasets
 * (IDX files, Fashion-MNIST, batch loading), the float64 reference and data-parallel training over MPI
 * ({@code io.dcls4j.dist}, which loads Open MPI only when asked). Not exported: {@code io.dcls4j.internal}, the
 * pure-Java kernels behind {@code Backend.VECTOR_API} ({@code io.dcls4j.vector}) and the generated bindings
 * ({@code io.dcls4j.ffi}).
 */
module io.dcls4j {
    requires static jdk.incubator.vector;

    exports io.dcls4j;
    exports io.dcls4j.nn;
    exports io.dcls4j.ops;
    exports io.dcls4j.optim;
    exports io.dcls4j.checkpoint;
    exports io.dcls4j.data;
    exports io.dcls4j.io;
    exports io.dcls4j.reference;
    exports io.dcls4j.dist;
}
