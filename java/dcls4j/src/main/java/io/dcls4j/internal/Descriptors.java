package io.dcls4j.internal;

import io.dcls4j.ffi.dcls_construct_desc;
import io.dcls4j.ffi.dcls_conv_desc;
import io.dcls4j.ops.ConstructConfig;
import io.dcls4j.ops.ConvConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** The C descriptors of a construction and a convolution (dcls.h), shared by the CPU ops and the CUDA path. */
public final class Descriptors {
    private Descriptors() {}

    /** A {@code dcls_construct_desc} for {@code config} in {@code arena}; unused axes have size 1. */
    public static MemorySegment construct(Arena arena, ConstructConfig config) {
        int ndim = config.ndim();
        MemorySegment desc = dcls_construct_desc.allocate(arena);
        dcls_construct_desc.ndim(desc, ndim);
        dcls_construct_desc.interpolation(desc, config.nativeInterpolation());
        dcls_construct_desc.out_channels(desc, config.outChannels());
        dcls_construct_desc.in_per_group(desc, config.inPerGroup());
        dcls_construct_desc.kernel_count(desc, config.kernelCount());
        int[] dks = config.dilatedKernelSize();
        for (int d = 0; d < 3; d++) {
            dcls_construct_desc.dilated_kernel_size(desc, d, d < ndim ? dks[d] : 1);
        }
        return desc;
    }

    /** A {@code dcls_conv_desc} for {@code config} in {@code arena}; unused axes have size 1, padding 0. */
    public static MemorySegment conv(Arena arena, ConvConfig config) {
        int ndim = config.ndim();
        MemorySegment desc = dcls_conv_desc.allocate(arena);
        dcls_conv_desc.ndim(desc, ndim);
        dcls_conv_desc.padding_mode(desc, config.paddingMode().code());
        dcls_conv_desc.batch(desc, config.batch());
        dcls_conv_desc.in_channels(desc, config.inChannels());
        dcls_conv_desc.out_channels(desc, config.outChannels());
        dcls_conv_desc.groups(desc, config.groups());
        int[] in = config.inputSize();
        int[] k = config.kernelSize();
        int[] s = config.stride();
        int[] p = config.padding();
        for (int d = 0; d < 3; d++) {
            boolean used = d < ndim;
            dcls_conv_desc.input_size(desc, d, used ? in[d] : 1);
            dcls_conv_desc.kernel_size(desc, d, used ? k[d] : 1);
            dcls_conv_desc.stride(desc, d, used ? s[d] : 1);
            dcls_conv_desc.padding(desc, d, used ? p[d] : 0);
        }
        return desc;
    }
}
