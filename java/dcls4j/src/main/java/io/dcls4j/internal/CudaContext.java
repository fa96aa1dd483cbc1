package io.dcls4j.internal;

import io.dcls4j.DclsException;
import io.dcls4j.ffi.dcls_cuda_nn_h;
import io.dcls4j.ffi.dcls_h;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * The one CUDA context (one stream, one cuDNN handle) of a device, shared by every tensor and layer on
 * it: created on first use, kept until the process ends. Work on a device therefore runs in the order
 * it was enqueued, whoever enqueued it, and memory freed by one layer is reused by the next (the
 * library's stream-ordered pool).
 *
 * <p>The native context must be used by one thread at a time; every call here holds this object's
 * lock, so a shared context stays correct when several threads (or a {@code Cleaner} freeing memory
 * of an automatic arena) use the same device. Pointers are raw: callers check shapes, devices and
 * arenas before they get here.
 */
public final class CudaContext implements DeviceOps {
    private static final Map<Integer, CudaContext> CONTEXTS = new HashMap<>();
    /** The sparse mode every context takes ({@link #setSparseModeOfAll}); 0 is DCLS_CUDA_SPARSE_AUTO, the native default. */
    private static int sparseModeOfAll = 0;

    private final int device;
    private final MemorySegment ctx;

    private CudaContext(int device, MemorySegment ctx) {
        this.device = device;
        this.ctx = ctx;
    }

    /**
     * The context of {@code cuda:device}, created on first use. {@link DclsException} when
     * CUDA is missing (not built, no driver, no device), {@link IllegalArgumentException} past the last
     * device.
     */
    public static CudaContext of(int device) {
        if (device < 0) {
            throw new IllegalArgumentException("CUDA device index must be >= 0, got " + device);
        }
        synchronized (CONTEXTS) {
            CudaContext c = CONTEXTS.get(device);
            if (c == null) {
                Cuda.requireDevice(device); // loads the library, explains a missing device
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                    Cuda.check(dcls_h.dcls_cuda_context_create(device, out));
                    c = new CudaContext(device, out.get(ValueLayout.ADDRESS, 0));
                }
                CONTEXTS.put(device, c);
                if (sparseModeOfAll != 0) {
                    c.setSparseMode(sparseModeOfAll);
                }
            }
            return c;
        }
    }

    /** The context of {@code cuda:device} if one was created, else null (nothing ever ran there). */
    public static CudaContext existing(int device) {
        synchronized (CONTEXTS) {
            return CONTEXTS.get(device);
        }
    }

    /** The device index. */
    public int device() {
        return device;
    }

    /**
     * The native context, for the calls made outside this class (io.dcls4j.nn's ops of dcls_cuda_nn.h).
     * Callers hold this object's lock while they use it, as every method here does.
     */
    public MemorySegment handle() {
        return ctx;
    }

    /**
     * {@code bytes} of zeroed device memory (zeroed in stream order), as a zero-length segment that
     * carries the address and {@code arena}'s lifetime: nothing can read through it, and closing the
     * arena frees the memory, in order after the work already enqueued.
     */
    public MemorySegment allocateDevice(Arena arena, long bytes) {
        MemorySegment ptr;
        synchronized (this) {
            ptr = malloc(bytes, false);
            int status = dcls_h.dcls_cuda_memset(ctx, ptr, 0, bytes);
            if (status != dcls_h.DCLS_OK()) {
                String message = Cuda.lastError();
                dcls_h.dcls_cuda_free(ctx, ptr);
                throw new DclsException(status, message + " (" + Native.statusName(status) + ")");
            }
        }
        return attach(ptr, 0, arena, false);
    }

    /**
     * {@code bytes} of zeroed pinned (page-locked) host memory, readable and writable from Java, freed
     * when {@code arena} closes. Copies to and from it are asynchronous.
     */
    public MemorySegment allocatePinned(Arena arena, long bytes) {
        MemorySegment ptr;
        synchronized (this) {
            ptr = malloc(bytes, true);
        }
        MemorySegment segment = attach(ptr, bytes, arena, true);
        segment.fill((byte) 0);
        return segment;
    }

    /** One AdamW step of {@code count} floats on this device (dcls_cuda_adamw_update); {@code vmax} NULL: no AMSGrad. */
    public void adamwUpdate(long count, MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v,
                            MemorySegment vmax, float decay, float beta1, float oneMinusBeta1, float beta2,
                            float oneMinusBeta2, float stepSize, float invSqrtBias2, float eps) {
        synchronized (this) {
            Cuda.check(dcls_cuda_nn_h.dcls_cuda_adamw_update(ctx, count, param, grad, m, v, vmax, decay, beta1,
                    oneMinusBeta1, beta2, oneMinusBeta2, stepSize, invSqrtBias2, eps));
        }
    }

    /** One SGD step of {@code count} floats on this device (dcls_cuda_sgd_update); {@code buffer} NULL: no momentum. */
    public void sgdUpdate(long count, MemorySegment param, MemorySegment grad, MemorySegment buffer, float lr,
                          float weightDecay, float momentum, float keep, boolean first, boolean nesterov) {
        synchronized (this) {
            Cuda.check(dcls_cuda_nn_h.dcls_cuda_sgd_update(ctx, count, param, grad, buffer, lr, weightDecay, momentum,
                    keep, first ? 1 : 0, nesterov ? 1 : 0));
        }
    }

    private MemorySegment malloc(long bytes, boolean pinned) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(pinned ? dcls_h.dcls_cuda_malloc_host(ctx, bytes, out)
                    : dcls_h.dcls_cuda_malloc(ctx, bytes, out));
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** Ties the memory to the arena; if that fails (the arena closed meanwhile, another thread's), frees it. */
    private MemorySegment attach(MemorySegment ptr, long size, Arena arena, boolean pinned) {
        try {
            return ptr.reinterpret(size, arena, s -> freeQuietly(s, pinned));
        } catch (RuntimeException e) {
            freeQuietly(ptr, pinned);
            throw e;
        }
    }

    /** Runs as an arena's cleanup action, which must not throw; a failed free leaves nothing to undo. */
    private synchronized void freeQuietly(MemorySegment ptr, boolean pinned) {
        if (pinned) {
            dcls_h.dcls_cuda_free_host(ctx, ptr);
        } else {
            dcls_h.dcls_cuda_free(ctx, ptr);
        }
    }

    /** Copies {@code bytes} on the stream; {@code kind} is a {@code dcls_cuda_memcpy_kind}. */
    public synchronized void memcpy(MemorySegment dst, MemorySegment src, long bytes, int kind) {
        Cuda.check(dcls_h.dcls_cuda_memcpy(ctx, dst, src, bytes, kind));
    }

    /** Sets {@code bytes} bytes of device memory to {@code value}, on the stream. */
    public synchronized void memset(MemorySegment ptr, int value, long bytes) {
        Cuda.check(dcls_h.dcls_cuda_memset(ctx, ptr, value, bytes));
    }

    /** Waits for everything enqueued so far; reports a failure of work that ran asynchronously. */
    public synchronized void synchronize() {
        Cuda.check(dcls_h.dcls_cuda_synchronize(ctx));
    }

    /**
     * The context's CUDA stream (a {@code cudaStream_t}, owned by the context), for another library's work in
     * order with dcls4j's: an NCCL all-reduce enqueued there runs after the backward that wrote the gradients.
     */
    public synchronized MemorySegment stream() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(dcls_h.dcls_cuda_context_stream(ctx, out));
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    @Override
    public synchronized void constructForward(ConstructDesc desc, MemorySegment weight, MemorySegment positions,
                                              MemorySegment sigma, MemorySegment kernel) {
        Cuda.check(dcls_h.dcls_cuda_construct_forward(ctx, desc.segment(), weight, positions, sigma, kernel));
    }

    @Override
    public synchronized void constructBackward(ConstructDesc desc, MemorySegment weight, MemorySegment positions,
                                               MemorySegment sigma, MemorySegment gradKernel, MemorySegment gradWeight,
                                               MemorySegment gradPositions, MemorySegment gradSigma,
                                               boolean accumulate) {
        Cuda.check(dcls_h.dcls_cuda_construct_backward(ctx, desc.segment(), weight, positions, sigma, gradKernel,
                gradWeight, gradPositions, gradSigma, accumulate ? 1 : 0));
    }

    @Override
    public synchronized void clampPositions(ConstructDesc desc, MemorySegment positions) {
        Cuda.check(dcls_h.dcls_cuda_positions_clamp(ctx, desc.segment(), positions));
    }

    @Override
    public synchronized void roundPositions(MemorySegment src, MemorySegment dst, long count) {
        Cuda.check(dcls_h.dcls_cuda_positions_round(ctx, src, dst, count));
    }

    /**
     * The box of the construction's kernel cells (dcls_cuda_construct_kernel_window): the positions are copied to the
     * host for it, so the call waits for the work enqueued before it.
     */
    @Override
    public synchronized boolean constructWindow(ConstructDesc desc, MemorySegment positions, MemorySegment sigma,
                                                MemorySegment lo, MemorySegment hi) {
        Cuda.check(dcls_h.dcls_cuda_construct_kernel_window(ctx, desc.segment(), positions, sigma, lo, hi));
        return true;
    }

    /**
     * Whether this device's plans run the tap-sparse engine on the kernel cells they are given, from their next
     * {@code setKernelCells} on: a {@code dcls_cuda_sparse_mode} ({@code DCLS_CUDA_SPARSE_AUTO}: where the plan's
     * cost model expects it to pay; {@code NEVER}; {@code ALWAYS}). The CUDA counterpart of the CPU's engine option
     * {@code "sparse_conv"}, a setting of the context: for measurements and tests.
     */
    public synchronized void setSparseMode(int mode) {
        Cuda.check(dcls_h.dcls_cuda_set_sparse_mode(ctx, mode));
    }

    /**
     * {@link #setSparseMode} on every context, and on those created from now on: the CPU's engine option
     * {@code "sparse_conv"} (io.dcls4j.Dcls#setEngineOption) for CUDA devices. Loads nothing where no context exists.
     */
    public static void setSparseModeOfAll(int mode) {
        synchronized (CONTEXTS) {
            for (CudaContext c : CONTEXTS.values()) {
                c.setSparseMode(mode);
            }
            sparseModeOfAll = mode;
        }
    }

    /**
     * A convolution plan for {@code config}. TF32 is a context setting read when a plan is made, so it is
     * set here, under the lock, for this plan alone: layers on one device may choose differently.
     */
    @Override
    public synchronized Plan createPlan(ConvConfig config, boolean tf32) {
        Cuda.check(dcls_h.dcls_cuda_set_tf32(ctx, tf32 ? 1 : 0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Cuda.check(dcls_h.dcls_cuda_conv_plan_create(ctx, Descriptors.conv(arena, config), out));
            return new CudaPlan(this, out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /**
     * A {@code dcls_cuda_conv_plan} on this context's stream: every call holds the context's lock, as the context's
     * own calls do. Kernel windows run on dcls4j's kernels (cuDNN's passes take the whole kernel); kernel cells run
     * the CUDA tap-sparse engine where the context's sparse mode and the plan's cost model choose it.
     */
    private record CudaPlan(CudaContext context, MemorySegment handle) implements Plan {
        @Override
        public void forward(MemorySegment x, MemorySegment kernel, MemorySegment bias, MemorySegment y) {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_forward(handle, x, kernel, bias, y));
            }
        }

        @Override
        public void backwardData(MemorySegment gradY, MemorySegment kernel, MemorySegment gradX) {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_backward_data(handle, gradY, kernel, gradX));
            }
        }

        @Override
        public void backwardWeights(MemorySegment x, MemorySegment gradY, MemorySegment gradKernel,
                                    MemorySegment gradBias, boolean accumulate) {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_backward_weights(handle, x, gradY, gradKernel, gradBias,
                        accumulate ? 1 : 0));
            }
        }

        @Override
        public boolean setKernelWindow(MemorySegment lo, MemorySegment hi) {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_plan_set_kernel_window(handle, lo, hi));
            }
            return true;
        }

        /** The positions are copied to the host for the cells, so the call waits for the work enqueued before it. */
        @Override
        public boolean setKernelCells(ConstructDesc construct, MemorySegment positions, MemorySegment sigma,
                                      boolean gradient) {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_plan_set_kernel_cells(handle, construct.segment(), positions, sigma,
                        gradient ? 1 : 0));
            }
            return true;
        }

        /** The positions and sigma are read on the host, in place: no copy and no wait for the stream. */
        @Override
        public boolean setKernelCellsFromHost(ConstructDesc construct, MemorySegment hostPositions,
                                              MemorySegment hostSigma, boolean gradient) {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_plan_set_kernel_cells_host(handle, construct.segment(),
                        hostPositions, hostSigma, gradient ? 1 : 0));
            }
            return true;
        }

        /** What the plan runs, e.g. "forward=cudnn:IMPLICIT_PRECOMP_GEMM backward_data=dcls:depthwise ...". */
        @Override
        public String info() {
            synchronized (context) {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                    Cuda.check(dcls_h.dcls_cuda_conv_plan_info(handle, out));
                    return out.get(ValueLayout.ADDRESS, 0).reinterpret(1 << 16).getString(0);
                }
            }
        }

        @Override
        public void destroy() {
            synchronized (context) {
                Cuda.check(dcls_h.dcls_cuda_conv_plan_destroy(handle));
            }
        }
    }

    @Override
    public String toString() {
        return "CudaContext(cuda:" + device + ")";
    }
}
