// nn_batch_norm_cuda.cu compiled as C++ against the CPU emulation of the CUDA runtime (cuda_runtime.h here).
#include "nn_batch_norm_cuda.cu"
