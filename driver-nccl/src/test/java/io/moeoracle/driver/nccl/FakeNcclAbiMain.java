package io.moeoracle.driver.nccl;

import io.moeoracle.driver.nccl.ffi.LibNccl;
import io.moeoracle.driver.nccl.ffi.NcclColls;
import io.moeoracle.driver.nccl.ffi.NcclComms;
import io.moeoracle.driver.nccl.ffi.NcclConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** The child JVM of {@link FakeNcclAbiTest}: calls every binding against the stand-in and checks what it saw. */
public final class FakeNcclAbiMain {
    private static MethodHandle last;

    private FakeNcclAbiMain() {
    }

    @SuppressWarnings("restricted")
    public static void main(String[] args) throws Throwable {
        SymbolLookup fake = SymbolLookup.libraryLookup(Path.of(args[0]), Arena.global());
        last = Linker.nativeLinker().downcallHandle(fake.find("fake_last").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS));
        check(LibNccl.library().isLoaded(), "the stand-in opened through moe.nccl.library: " + LibNccl.library().description());
        Nccl nccl = Nccl.load();
        check(nccl.version() == 22703 && nccl.versionString().equals("2.27.3"), "version " + nccl.versionString());
        NcclUniqueId id = nccl.uniqueId();
        byte[] b = id.toBytes();
        for (int i = 0; i < 128; i++) {
            check(b[i] == (byte) (i * 3 + 1), "unique id byte " + i);
        }
        try (Arena arena = Arena.ofConfined()) {
            // the id travels by value: the stand-in checks every byte, and the config's fields
            byte[] mine = new byte[128];
            for (int i = 0; i < 128; i++) {
                mine[i] = (byte) (i * 5 + 2);
            }
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment idStruct = arena.allocate(LibNccl.UNIQUE_ID);
            idStruct.copyFrom(MemorySegment.ofArray(mine));
            int rc = NcclComms.ncclCommInitRankConfig(out, 4, idStruct, 3, NcclConfig.allocate(arena, false));
            check(rc == NcclException.IN_PROGRESS, "ncclCommInitRankConfig answered " + rc + " (" + last() + ")");
            check(last().equals("ncclCommInitRankConfig nranks=4 rank=3"), last());
            MemorySegment comm = out.get(ValueLayout.ADDRESS, 0);
            MemorySegment state = arena.allocate(ValueLayout.JAVA_INT);
            int polls = 0;
            do {
                check(NcclComms.ncclCommGetAsyncError(comm, state) == 0, "ncclCommGetAsyncError");
                polls++;
            } while (state.get(ValueLayout.JAVA_INT, 0) == NcclException.IN_PROGRESS && polls < 10);
            check(state.get(ValueLayout.JAVA_INT, 0) == 0 && polls == 3, "state after " + polls + " polls");

            MemorySegment stream = MemorySegment.ofAddress(0xabcdef);
            NcclColls.ncclAllGather(0x1000L, 0x2000L, 123_456_789_012L, NcclDataType.BFLOAT16.code(), comm, stream);
            expect("ncclAllGather send=1000 recv=2000 count=123456789012 type=9 op=-1 peer=-1 rank=3 stream=abcdef");
            NcclColls.ncclReduceScatter(0x3000L, 0x4000L, 77L, NcclDataType.FLOAT32.code(), NcclRedOp.SUM.code(), comm,
                    stream);
            expect("ncclReduceScatter send=3000 recv=4000 count=77 type=7 op=0 peer=-1 rank=3 stream=abcdef");
            NcclColls.ncclAllReduce(0x5000L, 0x5000L, 1L, NcclDataType.INT32.code(), NcclRedOp.MAX.code(), comm, stream);
            expect("ncclAllReduce send=5000 recv=5000 count=1 type=2 op=2 peer=-1 rank=3 stream=abcdef");
            NcclColls.ncclSend(0x6000L, 5L, NcclDataType.INT32.code(), 2, comm, stream);
            expect("ncclSend send=6000 recv=0 count=5 type=2 op=-1 peer=2 rank=3 stream=abcdef");
            int recv = NcclColls.ncclRecv(0x7000L, 6L, NcclDataType.FLOAT32.code(), 1, comm, stream);
            expect("ncclRecv send=0 recv=7000 count=6 type=7 op=-1 peer=1 rank=3 stream=abcdef");
            check(recv == NcclException.INVALID_USAGE, "ncclRecv's result comes back: " + recv);
            // a group answered "in progress" is not an error
            check(nccl.group(() -> { }), "ncclGroupEnd's ncclInProgress reported as pending");
            // error texts: NCCL's string for the code and its last error for the communicator
            NcclException e = NcclException.of(NcclException.REMOTE_ERROR, "ncclAllGather", "x", comm);
            check(e.getMessage().contains("ncclRemoteError (6): remote process exited or there was a network error")
                    && e.getMessage().contains("NCCL's last error: fake: comm0 failed"), e.getMessage());
            check(NcclComms.ncclCommAbort(comm) == 0 && last().equals("ncclCommAbort"), "abort: " + last());
        }
        System.out.println("ABI OK");
    }

    @SuppressWarnings("restricted")
    private static String last() throws Throwable {
        MemorySegment s = (MemorySegment) last.invokeExact();
        return s.reinterpret(512).getString(0);
    }

    private static void expect(String text) throws Throwable {
        check(last().equals(text), "expected [" + text + "], the stand-in saw [" + last() + "]");
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
