/**
 * DCLS in pure Java: float32, the Vector API ({@code jdk.incubator.vector}, run with
 * {@code --add-modules jdk.incubator.vector}) and all cores, with the semantics of the float64 reference
 * ({@link io.dcls4j.reference.ReferenceConstruct}, {@link io.dcls4j.reference.ReferenceConv}). Not exported: users
 * reach it as a backend of the layers and ops ({@link io.dcls4j.Backend#VECTOR_API}), whose Java calls
 * ({@code io.dcls4j.internal.VectorOps}) run these kernels.
 *
 * <ul>
 *   <li>{@link io.dcls4j.vector.VectorConstruct}: kernel construction and its gradient.</li>
 *   <li>{@link io.dcls4j.vector.VectorConv}: grouped 1-3-D convolution, data, weight and bias gradients.</li>
 *   <li>{@link io.dcls4j.vector.VectorParallel}: the worker count (default: all cores).</li>
 * </ul>
 *
 * <p><b>Warm-up.</b> The kernels only run fast once the JIT's C2 compiler has compiled them (until then vector code
 * runs interpreted or in C1, orders of magnitude slower). That takes a few calls for a new shape, and longer on a
 * busy machine; time steady state after a warm-up of several iterations (or seconds), as with any JVM benchmark.
 *
 * <p><b>Non-finite inputs.</b> Zero kernel taps are skipped and some blocks compute a few lanes past the end of a
 * row that are then discarded; with infinities or NaNs in the input, NaNs can therefore appear in different places
 * than in the reference. Finite inputs give the reference's results within float32 rounding.
 */
package io.dcls4j.vector;
