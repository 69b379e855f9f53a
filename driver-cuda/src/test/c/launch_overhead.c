/*
 * The launch-overhead loop of LaunchOverheadBench, written in C against libcuda, for comparison
 * with the same loop through Java's FFM. Loads empty_kernel from the test fatbin and times:
 *   async: each cuLaunchKernel call on a non-blocking stream (batches of 1000, stream synchronized
 *          between batches, outside the timing), median over all launches;
 *   sync:  cuLaunchKernel + cuStreamSynchronize round trips, median.
 * Usage: launch_overhead FATBIN [launches=100000] [syncs=20000]   -> one JSON object on stdout
 * Build: cc -O2 -I/usr/local/cuda/include -o launch_overhead launch_overhead.c -ldl
 */
#include <cuda.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef CUresult (*fn_cuInit)(unsigned);
typedef CUresult (*fn_cuDeviceGet)(CUdevice *, int);
typedef CUresult (*fn_cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
typedef CUresult (*fn_cuCtxSetCurrent)(CUcontext);
typedef CUresult (*fn_cuModuleLoadData)(CUmodule *, const void *);
typedef CUresult (*fn_cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
typedef CUresult (*fn_cuStreamCreate)(CUstream *, unsigned);
typedef CUresult (*fn_cuStreamSynchronize)(CUstream);
typedef CUresult (*fn_cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                      unsigned, CUstream, void **, void **);
typedef CUresult (*fn_cuDeviceGetName)(char *, int, CUdevice);

static void *lib;
static void *sym(const char *name) {
    void *p = dlsym(lib, name);
    if (!p) { fprintf(stderr, "missing symbol %s\n", name); exit(2); }
    return p;
}
#define CHECK(call) do { CUresult rc_ = (call); if (rc_ != CUDA_SUCCESS) { \
    fprintf(stderr, "%s failed: %d (line %d)\n", #call, (int)rc_, __LINE__); exit(3); } } while (0)

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double pct(double *v, long n, double p) { return v[(long)(p * (n - 1))]; }

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s FATBIN [launches] [syncs]\n", argv[0]); return 1; }
    long launches = argc > 2 ? atol(argv[2]) : 100000;
    long syncs = argc > 3 ? atol(argv[3]) : 20000;
    lib = dlopen("libcuda.so.1", RTLD_NOW);
    if (!lib) { fprintf(stderr, "dlopen libcuda.so.1: %s\n", dlerror()); return 2; }
    fn_cuLaunchKernel launch = (fn_cuLaunchKernel)sym("cuLaunchKernel");
    fn_cuStreamSynchronize ssync = (fn_cuStreamSynchronize)sym("cuStreamSynchronize");
    CUdevice dev; CUcontext ctx; CUmodule mod; CUfunction f; CUstream s;
    CHECK(((fn_cuInit)sym("cuInit"))(0));
    CHECK(((fn_cuDeviceGet)sym("cuDeviceGet"))(&dev, 0));
    char name[256];
    CHECK(((fn_cuDeviceGetName)sym("cuDeviceGetName"))(name, sizeof name, dev));
    CHECK(((fn_cuDevicePrimaryCtxRetain)sym("cuDevicePrimaryCtxRetain"))(&ctx, dev));
    CHECK(((fn_cuCtxSetCurrent)sym("cuCtxSetCurrent"))(ctx));
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) { perror(argv[1]); return 1; }
    fseek(fp, 0, SEEK_END); long size = ftell(fp); fseek(fp, 0, SEEK_SET);
    char *image = malloc(size);
    if (fread(image, 1, size, fp) != (size_t)size) { perror("read"); return 1; }
    fclose(fp);
    CHECK(((fn_cuModuleLoadData)sym("cuModuleLoadData"))(&mod, image));
    CHECK(((fn_cuModuleGetFunction)sym("cuModuleGetFunction"))(&f, mod, "empty_kernel"));
    CHECK(((fn_cuStreamCreate)sym("cuStreamCreate"))(&s, CU_STREAM_NON_BLOCKING));
    void *params[1] = {0};

    for (int i = 0; i < 20000; i++) {           /* warm-up */
        CHECK(launch(f, 1, 1, 1, 32, 1, 1, 0, s, params, NULL));
        if (i % 1000 == 999) CHECK(ssync(s));
    }
    CHECK(ssync(s));

    double *t = malloc(sizeof(double) * launches);
    double batch_total = 0;
    for (long b = 0; b < launches; b += 1000) {
        double b0 = now_us();
        for (long i = b; i < b + 1000 && i < launches; i++) {
            double t0 = now_us();
            CUresult rc = launch(f, 1, 1, 1, 32, 1, 1, 0, s, params, NULL);
            t[i] = now_us() - t0;
            if (rc != CUDA_SUCCESS) { fprintf(stderr, "launch failed %d\n", (int)rc); return 3; }
        }
        batch_total += now_us() - b0;
        CHECK(ssync(s));
    }
    qsort(t, launches, sizeof(double), cmp);

    double *r = malloc(sizeof(double) * syncs);
    for (long i = 0; i < syncs; i++) {
        double t0 = now_us();
        CHECK(launch(f, 1, 1, 1, 32, 1, 1, 0, s, params, NULL));
        CHECK(ssync(s));
        r[i] = now_us() - t0;
    }
    qsort(r, syncs, sizeof(double), cmp);

    printf("{\"impl\":\"c\",\"device\":\"%s\",\"launches\":%ld,\"async_median_us\":%.4f,\"async_p10_us\":%.4f,"
           "\"async_p90_us\":%.4f,\"async_mean_us\":%.4f,\"syncs\":%ld,\"sync_median_us\":%.4f,\"sync_p10_us\":%.4f,"
           "\"sync_p90_us\":%.4f}\n",
           name, launches, pct(t, launches, 0.5), pct(t, launches, 0.1), pct(t, launches, 0.9),
           batch_total / launches, syncs, pct(r, syncs, 0.5), pct(r, syncs, 0.1), pct(r, syncs, 0.9));
    return 0;
}
