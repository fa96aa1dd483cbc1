// A CPU emulation of the part of CUDA that libdcls_cuda.so uses, for test_cuda_emu: it stands in
// for the toolkit's <cuda_runtime.h>, so that the library's kernels (the .cu files, compiled as
// C++) and its host code run on a machine without a GPU, under the unchanged test_cuda.cpp.
//
// - One emulated device (compute capability 9.0, 4 multiprocessors); device memory is host
//   memory, filled with NaN bytes when allocated; streams, copies and events are synchronous.
//   EMU_NO_DEVICE=1 in the environment makes it report no device.
// - A kernel launch runs the blocks one after another; the threads of a block are fibers
//   of one OS thread, each run until it waits at a barrier or ends.
//   __syncthreads releases when every thread of the block that has not ended waits there;
//   __shfl_down_sync does the same per warp. Shared memory, dynamic and static, is one
//   buffer per block, filled with NaN before each block.
// - A barrier that can never be released (some threads wait at another one) aborts.
// It checks the kernels' index arithmetic, the use of barriers, and everything around the
// kernels; not timing, memory coalescing or the hardware's arithmetic.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2, cudaErrorNoDevice = 100 };
typedef void *cudaStream_t;
typedef void *cudaMemPool_t;
typedef void *cudaEvent_t;
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
};
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16, cudaDevAttrMemoryPoolsSupported = 115 };
enum cudaMemPoolAttr { cudaMemPoolAttrReleaseThreshold = 4 };
#define cudaStreamNonBlocking 0x01
struct cudaDeviceProp {
    char name[256];
    int major;
    int minor;
};

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __launch_bounds__(...)
#define __restrict__ __restrict

// Switching between fibers: on x86-64 a minimal switch of the callee-saved registers (no system
// call, unlike swapcontext, which saves the signal mask: 50x faster here); elsewhere ucontext.
#if defined(__x86_64__)
#define EMU_FAST_SWITCH 1
// Saves the callee-saved registers, MXCSR and the x87 control word on the current stack, stores
// the stack pointer in *from, and resumes the fiber whose stack pointer is `to`. Weak: every
// translation unit that includes this header emits it, the linker keeps one.
extern "C" void emu_switch(void **from, void *to);
asm(R"(
    .text
    .weak emu_switch
    .type emu_switch,@function
emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emu_switch,.-emu_switch
)");
#else
#define EMU_FAST_SWITCH 0
#endif

namespace emu {

struct Fiber {
    ucontext_t context;
    void *sp = nullptr;  // EMU_FAST_SWITCH: the saved stack pointer
    std::vector<char> stack;
    dim3 thread;
    bool done = false;
    int waiting = 0;  // 0: runnable; 1: at __syncthreads; 2: at a warp barrier
};

struct Block {
    std::vector<Fiber> fibers;
    ucontext_t scheduler;
    void *scheduler_sp = nullptr;
    Fiber *current = nullptr;
    dim3 index, dim, grid;
    std::vector<float> shared;
    std::vector<float> warp_slots;
    std::function<void()> body;
    long long switches = 0;
};

inline Block &block() {
    static Block b;
    return b;
}

inline unsigned linear_thread() {
    const Block &b = block();
    const dim3 &t = b.current->thread;
    return t.x + b.dim.x * (t.y + b.dim.y * t.z);
}

// From the current fiber to the scheduler, and back.
inline void to_scheduler() {
    Block &b = block();
#if EMU_FAST_SWITCH
    emu_switch(&b.current->sp, b.scheduler_sp);
#else
    swapcontext(&b.current->context, &b.scheduler);
#endif
}

inline void to_fiber(Fiber &f) {
    Block &b = block();
    b.current = &f;
#if EMU_FAST_SWITCH
    emu_switch(&b.scheduler_sp, f.sp);
#else
    swapcontext(&b.scheduler, &f.context);
#endif
}

inline void fiber_entry() {
    Block &b = block();
    b.body();
    b.current->done = true;
    to_scheduler();  // never resumed
    std::abort();
}

// Prepares a fiber to start in fiber_entry.
inline void start(Fiber &f) {
    f.done = false;
    f.waiting = 0;
#if EMU_FAST_SWITCH
    // The stack as emu_switch leaves it: MXCSR and x87 control word, r15..r12, rbx, rbp, then
    // fiber_entry as the return address, above it a slot standing for fiber_entry's own return
    // address (so that the stack is aligned as at a call).
    uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack.data()) + f.stack.size()) & ~uintptr_t(15);
    uint64_t *p = reinterpret_cast<uint64_t *>(top);
    *--p = 0;
    *--p = reinterpret_cast<uint64_t>(&fiber_entry);
    for (int i = 0; i < 6; ++i) *--p = 0;
    *--p = 0x1F80ull | (0x037Full << 32);  // default MXCSR, x87 control word
    f.sp = p;
#else
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack.data();
    f.context.uc_stack.ss_size = f.stack.size();
    f.context.uc_link = nullptr;
    makecontext(&f.context, fiber_entry, 0);
#endif
}

// Waits (kind 1: the block, 2: the thread's warp) until every live thread of the group waits too.
inline void wait(int kind) {
    block().current->waiting = kind;
    to_scheduler();
}

// Runs one block to completion.
inline void run_block() {
    Block &b = block();
    const size_t n = b.fibers.size();
    for (size_t i = 0; i < n; ++i) start(b.fibers[i]);
    for (;;) {
        bool progressed = false, live = false;
        for (size_t i = 0; i < n; ++i) {
            Fiber &f = b.fibers[i];
            if (f.done || f.waiting) continue;
            ++b.switches;
            to_fiber(f);
            progressed = true;
        }
        // Release the barriers whose whole group waits.
        bool block_ready = true, any_block = false;
        for (size_t i = 0; i < n; ++i) {
            const Fiber &f = b.fibers[i];
            if (f.done) continue;
            live = true;
            if (f.waiting == 1) any_block = true;
            else block_ready = false;
        }
        if (!live) return;
        if (any_block && block_ready) {
            for (Fiber &f : b.fibers) f.waiting = 0;
            continue;
        }
        for (size_t w = 0; w * 32 < n; ++w) {
            bool ready = true, any = false;
            for (size_t i = w * 32; i < std::min(n, w * 32 + 32); ++i) {
                const Fiber &f = b.fibers[i];
                if (f.done) continue;
                if (f.waiting == 2) any = true;
                else ready = false;
            }
            if (any && ready) {
                for (size_t i = w * 32; i < std::min(n, w * 32 + 32); ++i) b.fibers[i].waiting = 0;
                progressed = true;
            }
        }
        if (!progressed) {
            std::fprintf(stderr, "emu: deadlock: threads wait at different barriers\n");
            std::abort();
        }
    }
}

template <typename... KernelArgs>
struct Launcher {
    void (*kernel)(KernelArgs...);
    dim3 grid, dim;
    size_t shared_bytes;

    template <typename... Args>
    void operator()(Args... args) const {
        Block &b = block();
        const unsigned threads = dim.x * dim.y * dim.z;
        if (threads == 0 || threads > 1024 || shared_bytes > 48 * 1024 || grid.x == 0 || grid.y == 0 || grid.z == 0) {
            std::fprintf(stderr, "emu: invalid launch configuration\n");
            std::abort();
        }
        b.dim = dim;
        b.grid = grid;
        b.fibers.resize(threads);
        for (unsigned t = 0; t < threads; ++t) {
            b.fibers[t].thread = dim3(t % dim.x, (t / dim.x) % dim.y, t / (dim.x * dim.y));
            if (b.fibers[t].stack.empty()) b.fibers[t].stack.resize(64 * 1024);
        }
        b.warp_slots.assign(threads, 0.f);
        b.body = [=] { kernel(args...); };
        for (unsigned z = 0; z < grid.z; ++z)
            for (unsigned y = 0; y < grid.y; ++y)
                for (unsigned x = 0; x < grid.x; ++x) {
                    b.index = dim3(x, y, z);
                    b.shared.assign(shared_bytes / sizeof(float) + 1, std::numeric_limits<float>::quiet_NaN());
                    run_block();
                }
        b.body = nullptr;
    }
};

template <typename... KernelArgs>
Launcher<KernelArgs...> launch(void (*kernel)(KernelArgs...), dim3 grid, dim3 dim, size_t shared_bytes, cudaStream_t) {
    return Launcher<KernelArgs...>{kernel, grid, dim, shared_bytes};
}

}  // namespace emu

#define threadIdx (emu::block().current->thread)
#define blockIdx (emu::block().index)
#define blockDim (emu::block().dim)
#define gridDim (emu::block().grid)
#define DCLS_LAUNCH(kernel, grid, block, shared, stream) emu::launch(kernel, grid, block, shared, stream)
#define DCLS_SHARED_FLOATS(name) float *name = emu::block().shared.data()
// EMU_MAX_SHARED=bytes in the environment makes the kernels plan with less shared memory than 48 KiB,
// so that smaller tiles and the generic kernels run too.
#define DCLS_MAX_SHARED_BYTES (std::getenv("EMU_MAX_SHARED") ? std::atol(std::getenv("EMU_MAX_SHARED")) : 48 * 1024)

inline void __syncthreads() { emu::wait(1); }

inline float __shfl_down_sync(unsigned, float v, int offset) {
    emu::Block &b = emu::block();
    const unsigned t = emu::linear_thread(), lane = t % 32, src = lane + unsigned(offset);
    b.warp_slots[t] = v;
    emu::wait(2);
    const float r = src < 32 && t - lane + src < b.warp_slots.size() ? b.warp_slots[t - lane + src] : v;
    emu::wait(2);
    return r;
}

// ---- the runtime API ---------------------------------------------------------------------------

inline bool emu_has_device() { return std::getenv("EMU_NO_DEVICE") == nullptr; }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char *cudaGetErrorName(cudaError_t e) { return e == cudaErrorNoDevice ? "cudaErrorNoDevice" : "emu"; }
inline const char *cudaGetErrorString(cudaError_t e) { return e == cudaErrorNoDevice ? "no device (emulated)" : "emu"; }
inline cudaError_t cudaGetDeviceCount(int *n) {
    *n = emu_has_device() ? 1 : 0;
    return *n ? cudaSuccess : cudaErrorNoDevice;
}
inline cudaError_t cudaGetDevice(int *d) {
    *d = 0;
    return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int) {
    std::snprintf(p->name, sizeof p->name, "CPU emulation (test_cuda_emu)");
    p->major = 9;
    p->minor = 0;
    return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int) {
    *v = a == cudaDevAttrMultiProcessorCount ? 4 : 1;
    return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned) {
    static int stream;
    *s = &stream;
    return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *p, int) {
    *p = nullptr;
    return cudaSuccess;
}
inline cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void *) { return cudaSuccess; }
inline cudaError_t cudaMalloc(void **p, size_t n) {
    *p = std::malloc(n ? n : 1);
    if (!*p) return cudaErrorMemoryAllocation;
    std::memset(*p, 0xff, n);  // NaN floats: reading unwritten memory shows
    return cudaSuccess;
}
inline cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t) { return cudaMalloc(p, n); }
inline cudaError_t cudaFree(void *p) {
    std::free(p);
    return cudaSuccess;
}
inline cudaError_t cudaFreeAsync(void *p, cudaStream_t) { return cudaFree(p); }
inline cudaError_t cudaMallocHost(void **p, size_t n) { return cudaMalloc(p, n); }
inline cudaError_t cudaFreeHost(void *p) { return cudaFree(p); }
inline cudaError_t cudaMemcpyAsync(void *d, const void *s, size_t n, cudaMemcpyKind, cudaStream_t) {
    std::memmove(d, s, n);
    return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void *d, int v, size_t n, cudaStream_t) {
    std::memset(d, v, n);
    return cudaSuccess;
}
inline cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total) {
    *free_bytes = *total = size_t(1) << 34;
    return cudaSuccess;
}
inline cudaError_t cudaEventCreate(cudaEvent_t *e) {
    *e = new double(0.0);
    return cudaSuccess;
}
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete static_cast<double *>(e);
    return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
    *static_cast<double *>(e) = double(std::clock()) * 1e3 / CLOCKS_PER_SEC;
    return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t stop) {
    *ms = float(*static_cast<double *>(stop) - *static_cast<double *>(start));
    return cudaSuccess;
}
