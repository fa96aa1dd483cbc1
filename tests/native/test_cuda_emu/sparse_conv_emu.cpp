// sparse_conv_cuda.cu compiled as C++ against the CPU emulation of the CUDA runtime (cuda_runtime.h here).
#include "sparse_conv_cuda.cu"
