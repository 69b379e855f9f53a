// Does cuMemcpyHtoD from pageable memory return before its bytes land, as seen by work on a non-blocking stream?
// The driver documents that it may ("returns once the pageable buffer has been copied to the staging memory");
// this program shows it happening, and that a legacy-stream synchronize after the copy closes the window
// (what DeviceBuffer.copyFromHost and fill do). A standalone probe, not part of the build:
//   nvcc -O2 -o pageable_htod_race pageable_htod_race.c -lcuda && ./pageable_htod_race
// H100 80GB HBM3, driver 580.159.04 (bench/results/pageable-htod-race-H100-20261126.log): without the sync,
// 4 of 200 rounds at 1 MiB and 1 of 200 at 3 MiB read stale bytes; with it, 0 of 200 at every size.
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define CK(x) do { CUresult r = (x); if (r) { const char *s; cuGetErrorString(r, &s); fprintf(stderr, "%s: %s\n", #x, s); exit(1);} } while (0)
int main(void) {
  CK(cuInit(0)); CUdevice dev; CK(cuDeviceGet(&dev, 0)); CUcontext ctx; CK(cuDevicePrimaryCtxRetain(&ctx, dev)); CK(cuCtxSetCurrent(ctx));
  CUstream s; CK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
  size_t sizes[] = {4 << 10, 64 << 10, 737280, 1 << 20, 3 << 20, 8 << 20};
  for (int fix = 0; fix < 2; fix++) {
    for (int k = 0; k < 6; k++) {
      size_t n = sizes[k]; int bad = 0, rounds = 200;
      CUdeviceptr a, b; CK(cuMemAlloc(&a, n)); CK(cuMemAlloc(&b, n));
      unsigned char *h = malloc(n), *g = malloc(n);
      for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) h[i] = (unsigned char) rand();
        CK(cuMemcpyHtoD(a, h, n));
        if (fix) CK(cuStreamSynchronize(0));
        CK(cuMemcpyDtoDAsync(b, a, n, s));
        CK(cuStreamSynchronize(s));
        CK(cuMemcpyDtoH(g, b, n));
        if (memcmp(g, h, n)) bad++;
      }
      printf("%s %8zu bytes: %d of %d rounds saw stale bytes\n", fix ? "with legacy-stream sync" : "plain cuMemcpyHtoD    ", n, bad, rounds);
      free(h); free(g); cuMemFree(a); cuMemFree(b);
    }
  }
  return 0;
}
