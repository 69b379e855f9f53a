/*
 * A stand-in for libnccl.so.2 with NCCL's signatures (nccl.h), for the ABI test of the FFM bindings on a
 * machine without GPUs (FakeNcclAbiTest). Every function records its arguments as text; fake_last()
 * returns the record of the last call, fake_calls() how many calls were made. InitRankConfig checks the
 * by-value unique id and the config struct and answers an error code naming what is wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct { char internal[128]; } ncclUniqueId;
typedef struct {
  size_t size; unsigned int magic; unsigned int version;
  int blocking; int cgaClusterSize; int minCTAs; int maxCTAs; const char* netName; int splitShare;
} ncclConfig_t;
typedef struct { int nranks; int rank; int polls; int aborted; } fake_comm;

static char last[512];
static int calls;
static fake_comm comm0;

const char* fake_last(void) { return last; }
int fake_calls(void) { return calls; }

static void rec(const char* text) { snprintf(last, sizeof last, "%s", text); calls++; }

int ncclGetVersion(int* v) { *v = 22703; rec("ncclGetVersion"); return 0; }
int ncclGetUniqueId(ncclUniqueId* id) {
  for (int i = 0; i < 128; i++) id->internal[i] = (char)(i * 3 + 1);
  rec("ncclGetUniqueId");
  return 0;
}
const char* ncclGetErrorString(int r) {
  static const char* s[] = {"no error", "unhandled cuda error", "unhandled system error", "internal error",
                            "invalid argument", "invalid usage", "remote process exited or there was a network error",
                            "NCCL operation in progress", "timeout"};
  return r >= 0 && r <= 8 ? s[r] : "unknown result code";
}
const char* ncclGetLastError(void* comm) { return comm == &comm0 ? "fake: comm0 failed" : "fake: no comm"; }

int ncclCommInitRankConfig(fake_comm** comm, int nranks, ncclUniqueId id, int rank, ncclConfig_t* c) {
  char buf[256];
  for (int i = 0; i < 128; i++) {
    if (id.internal[i] != (char)(i * 5 + 2)) { snprintf(buf, sizeof buf, "id byte %d is %d", i, id.internal[i]); rec(buf); return 4; }
  }
  if (c->size != 48 || c->magic != 0xcafebeefu || c->version != 21700 || c->blocking != 0 || c->minCTAs != (int)0x80000000
      || c->netName != 0 || c->splitShare != (int)0x80000000) {
    snprintf(buf, sizeof buf, "config size=%zu magic=%x version=%u blocking=%d", c->size, c->magic, c->version, c->blocking);
    rec(buf);
    return 4;
  }
  comm0.nranks = nranks; comm0.rank = rank; comm0.polls = 0;
  *comm = &comm0;
  snprintf(buf, sizeof buf, "ncclCommInitRankConfig nranks=%d rank=%d", nranks, rank);
  rec(buf);
  return 7; /* in progress, as a non-blocking communicator answers */
}
int ncclCommGetAsyncError(fake_comm* comm, int* state) {
  *state = comm->polls++ < 2 ? 7 : (comm->aborted ? 6 : 0);
  rec("ncclCommGetAsyncError");
  return 0;
}
int ncclCommAbort(fake_comm* comm) { comm->aborted = 1; rec("ncclCommAbort"); return 0; }
int ncclCommDestroy(fake_comm* comm) { rec("ncclCommDestroy"); return 0; }
int ncclGroupStart(void) { rec("ncclGroupStart"); return 0; }
int ncclGroupEnd(void) { rec("ncclGroupEnd"); return 7; }

static void coll(const char* name, const void* s, const void* r, size_t n, int type, int op, int peer, fake_comm* comm,
                 void* stream) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s send=%lx recv=%lx count=%zu type=%d op=%d peer=%d rank=%d stream=%lx", name,
           (unsigned long)(uintptr_t)s, (unsigned long)(uintptr_t)r, n, type, op, peer, comm->rank,
           (unsigned long)(uintptr_t)stream);
  rec(buf);
}
int ncclAllGather(const void* s, void* r, size_t n, int type, fake_comm* c, void* st) { coll("ncclAllGather", s, r, n, type, -1, -1, c, st); return 0; }
int ncclReduceScatter(const void* s, void* r, size_t n, int type, int op, fake_comm* c, void* st) { coll("ncclReduceScatter", s, r, n, type, op, -1, c, st); return 0; }
int ncclAllReduce(const void* s, void* r, size_t n, int type, int op, fake_comm* c, void* st) { coll("ncclAllReduce", s, r, n, type, op, -1, c, st); return 0; }
int ncclSend(const void* s, size_t n, int type, int peer, fake_comm* c, void* st) { coll("ncclSend", s, 0, n, type, -1, peer, c, st); return 0; }
int ncclRecv(void* r, size_t n, int type, int peer, fake_comm* c, void* st) { coll("ncclRecv", 0, r, n, type, -1, peer, c, st); return 5; }
