/**
 * dcls4j's API: {@link io.dcls4j.Tensor} (off-heap float32 on the CPU or a CUDA device), the DCLS layers
 * {@link io.dcls4j.DclsConv} and {@link io.dcls4j.DclsConvTranspose} with their {@link io.dcls4j.Parameter}s, and
 * the choices they take ({@link io.dcls4j.Interpolation}, {@link io.dcls4j.PaddingMode}, {@link io.dcls4j.Device},
 * {@link io.dcls4j.Backend}). The functional ops under the layers are in {@code io.dcls4j.ops}, network layers and
 * models in {@code io.dcls4j.nn}.
 *
 * <h2 id="layers">Layers: ownership, threads, devices and backends</h2>
 *
 * <p><b>Ownership.</b> The layer owns its parameters, their gradients, the constructed kernel and
 * the tensors {@link DclsConv#forward} and {@link DclsConv#backward} return. Those results are overwritten by the
 * next call with an input of the same shape, and freed by {@link DclsConv#close()} or when their input shape
 * is evicted: the layer keeps the plans and results of its {@value DclsConv#MAX_CACHED_SHAPES} most recently
 * used input shapes, and reading a result of an evicted shape throws {@link IllegalStateException}
 * saying so. Copy results you need longer. The input given to {@code forward} is read again by
 * {@code backward}: leave it unchanged in between.
 *
 * <p><b>Threads.</b> A layer may be used by one thread at a time (one after another from any
 * threads is fine): a call while another thread is inside the layer gets an
 * {@link IllegalStateException} naming the layer, and nothing is corrupted. Different layers run
 * fully in parallel on different threads, except layers sharing positions
 * ({@link DclsConv.Builder#sharePositionsWith}), whose backward passes add to the same gradients: use them
 * from one thread. The tensors a layer returns, and its parameters, are not safe to read on one
 * thread while the layer writes them on another.
 *
 * <p><b>Devices.</b> A layer built with {@link DclsConv.Builder#device(Device) device(Device.cuda(i))} keeps its
 * parameters, gradients, kernel and results in that GPU's memory and runs every pass there (kernel
 * construction in dcls4j's CUDA kernels, convolutions in cuDNN or dcls4j's depthwise kernels), with the
 * same API and semantics: inputs must be on the layer's device (else {@link IllegalArgumentException}
 * naming the tensor and both devices), and the work is enqueued on the device's stream (see
 * {@link Device}). Reading results goes through copies ({@link Tensor#toFloatArray()},
 * {@link Tensor#copyFrom(Tensor)}). {@link DclsConv#clampPositions()} and the rounding of inference mode run on the
 * device;
 * initialisation and {@link DclsConv#loadReferenceParameters} copy through host memory.
 *
 * <p><b>Backends.</b> {@link io.dcls4j.LayerBuilder#backend} chooses the implementation: {@link Backend#NATIVE} (the
 * default: oneDNN and dcls4j's engines on the CPU, cuDNN and dcls4j's CUDA kernels on a GPU) or
 * {@link Backend#VECTOR_API} (pure Java on the CPU, with {@code --add-modules jdk.incubator.vector}), with the same
 * API and results within float32 rounding. The ops take the same choice ({@code io.dcls4j.ops.Convolution},
 * {@code KernelConstruction}, {@code Positions}).
 */
package io.dcls4j;
