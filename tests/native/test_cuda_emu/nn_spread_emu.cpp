// nn_spread_cuda.cu compiled as C++ against the CPU emulation of the CUDA runtime (cuda_runtime.h here).
#include "nn_spread_cuda.cu"
