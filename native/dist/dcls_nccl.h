/*
 * The few NCCL 2.x functions dcls4j uses (io.dcls4j.dist.Nccl), declared from NCCL's documented C API so
 * that the bindings build where NCCL is not installed. libnccl.so.2 is loaded only when a GPU all-reduce is
 * asked for. Only the enumerators used are named; their values are NCCL's ABI (stable across 2.x).
 * Bindings: scripts/regenerate-dist-bindings.sh -> io.dcls4j.ffi.nccl.nccl_h.
 */
#ifndef DCLS_NCCL_H
#define DCLS_NCCL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ncclResult_t: 0 is success; anything else is explained by ncclGetErrorString. */
typedef int ncclResult_t;
#define DCLS_NCCL_SUCCESS 0

/* ncclDataType_t / ncclRedOp_t values used by dcls4j. */
typedef int ncclDataType_t;
#define DCLS_NCCL_FLOAT32 7
typedef int ncclRedOp_t;
#define DCLS_NCCL_SUM 0

/* An opaque communicator. */
typedef struct ncclComm *ncclComm_t;

/* The rendezvous id that rank 0 makes and every rank passes to ncclCommInitRank (128 opaque bytes). */
#define DCLS_NCCL_UNIQUE_ID_BYTES 128
typedef struct ncclUniqueId {
    char internal[DCLS_NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;

/* A CUDA stream (cudaStream_t); NULL is the legacy default stream. */
typedef void *dcls_nccl_stream;

ncclResult_t ncclGetVersion(int *version);
ncclResult_t ncclGetUniqueId(ncclUniqueId *uniqueId);
ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId commId, int rank);
ncclResult_t ncclAllReduce(const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype,
                           ncclRedOp_t op, ncclComm_t comm, dcls_nccl_stream stream);
ncclResult_t ncclBroadcast(const void *sendbuff, void *recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, dcls_nccl_stream stream);
ncclResult_t ncclCommDestroy(ncclComm_t comm);
const char *ncclGetErrorString(ncclResult_t result);

#ifdef __cplusplus
}
#endif

#endif
