package io.moeoracle.driver.nccl;

import io.moeoracle.driver.nccl.ffi.LibNccl;
import io.moeoracle.driver.nccl.ffi.NcclColls;
import io.moeoracle.driver.nccl.ffi.NcclComms;
import io.moeoracle.driver.nccl.ffi.NcclSettings;
import io.moeoracle.nativeload.NativeLibraryException;
import io.moeoracle.nativeload.ffi.NativeLibrary;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NCCL library, loaded. Whether it can be used is decided once, by opening {@code libnccl.so.2}
 * and calling {@code ncclGetVersion}; the answer (and the cause when it is "no") is kept for the
 * life of the JVM, as {@code CudaDriver} does for CUDA.
 *
 * <pre>{@code
 * Nccl nccl = Nccl.load();                          // or Nccl.unavailabilityCause() for the reason
 * List<NcclCommunicator> comms = NcclCommunicator.initAll(contexts, Duration.ofSeconds(60));
 * nccl.group(() -> comms.forEach(c -> c.allReduce(buf, buf, n, NcclDataType.FLOAT32, NcclRedOp.SUM, stream)));
 * }</pre>
 *
 * <p>On the shared GPU machines NVLink multicast (NVLS) must stay off: start every process with
 * {@code NCCL_NVLS_ENABLE=0} in its environment ({@link #nvlsWarning()} says when it is not). This
 * facade never calls NCCL's multicast APIs.
 */
public final class Nccl {
    private static final Logger LOG = LoggerFactory.getLogger(Nccl.class);

    private final int version;
    private final String description;

    private Nccl(int version, String description) {
        this.version = version;
        this.description = description;
    }

    /** The probe result, computed on first use. */
    private static final class Holder {
        static final Nccl NCCL;
        static final NcclUnavailableException CAUSE;

        static {
            Nccl n = null;
            NcclUnavailableException cause = null;
            try {
                n = probe(LibNccl.library());
            } catch (NcclUnavailableException e) {
                cause = e;
                LOG.debug("NCCL unavailable: {}", e.getMessage());
            }
            NCCL = n;
            CAUSE = cause;
        }
    }

    /**
     * Decides whether an opened (or not) library is a usable NCCL, by calling {@code ncclGetVersion}.
     *
     * @param library the library as the loader left it
     * @return the loaded facade
     * @throws NcclUnavailableException naming why and what to do
     */
    static Nccl probe(NativeLibrary library) {
        if (!library.isLoaded()) {
            Throwable failure = library.failure().orElseThrow();
            boolean denied = failure instanceof NativeLibraryException n && n.nativeAccessDenied();
            String message = denied
                    ? "native access is not enabled for the NCCL facade: pass --enable-native-access="
                            + "io.moeoracle.nativeload,io.moeoracle.driver.nccl (module path) or"
                            + " --enable-native-access=ALL-UNNAMED (class path)"
                    : "libnccl.so.2 (NCCL) was not found: install NCCL (pip's nvidia-nccl-cu13 / -cu12, or the"
                            + " distribution's libnccl2), add its folder to java.library.path, or name the library with -D"
                            + NcclSettings.LIBRARY.name() + "=/path/to/libnccl.so.2 (" + failure.getMessage() + ")";
            throw new NcclUnavailableException(message, failure);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            int rc = NcclComms.ncclGetVersion(out);
            if (rc != 0) {
                throw new NcclUnavailableException(library.description() + " answered ncclGetVersion with "
                        + NcclException.nameOf(rc) + ": it is not a usable NCCL", null);
            }
            int v = out.get(ValueLayout.JAVA_INT, 0);
            if (v < 21000) {
                throw new NcclUnavailableException(library.description() + " is NCCL " + versionString(v)
                        + "; 2.10 or newer is needed (BF16, non-blocking communicators, ncclGetLastError)", null);
            }
            return new Nccl(v, library.description());
        } catch (LinkageError e) {
            throw new NcclUnavailableException(library.description() + " has no ncclGetVersion: "
                    + e.getMessage() + "; name a real libnccl.so.2 with -D" + NcclSettings.LIBRARY.name(), e);
        }
    }

    /** @return whether NCCL loaded and answered */
    public static boolean isAvailable() {
        return Holder.NCCL != null;
    }

    /** @return why NCCL cannot be used, or empty when it can */
    public static Optional<NcclUnavailableException> unavailabilityCause() {
        return Optional.ofNullable(Holder.CAUSE);
    }

    /** @throws NcclUnavailableException when NCCL cannot be used, with the reason */
    public static void ensureAvailability() {
        if (Holder.NCCL == null) {
            throw new NcclUnavailableException(Holder.CAUSE.getMessage(), Holder.CAUSE);
        }
    }

    /**
     * @return the loaded library
     * @throws NcclUnavailableException when it cannot be used, with the reason
     */
    public static Nccl load() {
        ensureAvailability();
        return Holder.NCCL;
    }

    /** @return NCCL's version code, e.g. {@code 22703} for 2.27.3 */
    public int version() {
        return version;
    }

    /** @return the version as {@code major.minor.patch} */
    public String versionString() {
        return versionString(version);
    }

    static String versionString(int v) {
        return v >= 20900 ? (v / 10000) + "." + (v % 10000) / 100 + "." + v % 100
                : (v / 1000) + "." + (v % 1000) / 100 + "." + v % 100;
    }

    /** @return the library's name and path */
    public String description() {
        return description;
    }

    /**
     * Makes a new unique id ({@code ncclGetUniqueId}) on this process, which then serves as the
     * communicator's bootstrap root: call it on one rank and hand the id to the others.
     *
     * @return the id
     * @throws NcclException when NCCL cannot make one (no usable network interface, say)
     */
    public NcclUniqueId uniqueId() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment id = arena.allocate(LibNccl.UNIQUE_ID);
            int rc = NcclComms.ncclGetUniqueId(id);
            if (rc != 0) {
                throw NcclException.of(rc, "ncclGetUniqueId", "", MemorySegment.NULL);
            }
            return NcclUniqueId.of(id.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    /**
     * Runs NCCL calls as one group ({@code ncclGroupStart} ... {@code ncclGroupEnd}): calls for several
     * communicators from one thread (one JVM driving several GPUs) must be grouped, and so must the
     * sends and receives of one exchange. The group is ended even when the body throws.
     *
     * @param body the calls
     * @return true when a non-blocking communicator is still working on the group ({@code ncclInProgress}):
     *     poll its state ({@link NcclCommunicator#awaitReady}) before relying on it
     * @throws NcclException when {@code ncclGroupStart} or {@code ncclGroupEnd} fails
     */
    public boolean group(Runnable body) {
        int rc = NcclColls.ncclGroupStart();
        if (rc != 0) {
            throw NcclException.of(rc, "ncclGroupStart", "", MemorySegment.NULL);
        }
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            int end = NcclColls.ncclGroupEnd();
            if (end != 0 && end != NcclException.IN_PROGRESS) {
                e.addSuppressed(NcclException.of(end, "ncclGroupEnd", "after a failed call in the group",
                        MemorySegment.NULL));
            }
            throw e;
        }
        rc = NcclColls.ncclGroupEnd();
        if (rc != 0 && rc != NcclException.IN_PROGRESS) {
            throw NcclException.of(rc, "ncclGroupEnd", "", MemorySegment.NULL);
        }
        return rc == NcclException.IN_PROGRESS;
    }

    /**
     * NVLink multicast (NVLS) must stay off on shared GPU machines; NCCL reads {@code NCCL_NVLS_ENABLE}
     * from the environment of the process, which a JVM cannot change for itself.
     *
     * @return a warning to show when {@code NCCL_NVLS_ENABLE=0} is not set, else empty
     */
    public static Optional<String> nvlsWarning() {
        String v = System.getenv("NCCL_NVLS_ENABLE");
        if ("0".equals(v == null ? null : v.strip())) {
            return Optional.empty();
        }
        return Optional.of("NCCL_NVLS_ENABLE is " + (v == null ? "unset" : "'" + v + "'") + ": NCCL may use NVLink"
                + " multicast (NVLS); on shared GPU machines start the process with NCCL_NVLS_ENABLE=0 in its environment");
    }

    @Override
    public String toString() {
        return "Nccl[" + versionString() + ", " + description + "]";
    }
}
