/**
 * The Java plumbing the CUDA backends share (marlin, flashinfer, triton): the host check (driver,
 * kernel image, the CUDA device behind a {@code DeviceInfo}), the CUDA-address rules of their verdicts,
 * staging of host tensors, a kernel's life cycle and graph replay, biases widened for padded layouts and
 * the epilogue's activation code. Not a backend: it provides no service and holds no kernel of its own.
 * Its packages are internal plumbing, exported to those backends only (on the class path, where module
 * boundaries do not apply, they are plain public classes that nothing but the backends names).
 */
@SuppressWarnings("module") // the qualified exports name backend modules that are built after this one
module io.moeoracle.cuda.moe {
    requires transitive io.moeoracle.api;
    requires transitive io.moeoracle.driver.cuda;
    requires org.slf4j;

    exports io.moeoracle.cuda.moe.host to
            io.moeoracle.backend.marlin, io.moeoracle.backend.flashinfer, io.moeoracle.backend.triton;
    exports io.moeoracle.cuda.moe.kernel to
            io.moeoracle.backend.marlin, io.moeoracle.backend.flashinfer, io.moeoracle.backend.triton;
    exports io.moeoracle.cuda.moe.launch to
            io.moeoracle.backend.marlin, io.moeoracle.backend.flashinfer, io.moeoracle.backend.triton;
}
