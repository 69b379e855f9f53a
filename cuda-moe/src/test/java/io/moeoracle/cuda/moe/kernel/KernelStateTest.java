package io.moeoracle.cuda.moe.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moeoracle.api.error.KernelStateException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class KernelStateTest {

    @Test
    @DisplayName("a forward before prepare, and any call after close, fail naming the provider")
    void lifeCycle() {
        KernelState s = new KernelState("marlin");
        s.checkOpen();
        assertThat(s.isPrepared()).isFalse();
        assertThatThrownBy(s::requirePrepared).isInstanceOf(KernelStateException.class).hasMessageContaining("marlin");
        s.prepared(true);
        s.requirePrepared();
        assertThat(s.isPrepared()).isTrue();

        assertThat(s.beginClose()).isTrue();
        assertThat(s.isClosed()).isTrue();
        assertThat(s.isPrepared()).as("a closed kernel is not prepared").isFalse();
        assertThat(s.beginClose()).as("resources are released once").isFalse();
        assertThatThrownBy(s::checkOpen).isInstanceOf(KernelStateException.class).hasMessageContaining("marlin");
        assertThatThrownBy(s::requirePrepared).isInstanceOf(KernelStateException.class);
    }

    @Test
    @DisplayName("a replay runs under the kernel's lock; after its own close or the kernel's it fails, and releases once")
    void replay() {
        Object kernel = new Object();
        KernelState s = new KernelState("flashinfer-bf16");
        AtomicInteger launches = new AtomicInteger();
        AtomicBoolean locked = new AtomicBoolean(true);
        AtomicInteger releases = new AtomicInteger();
        GraphReplay r = new GraphReplay(kernel, s, () -> {
            locked.compareAndSet(true, Thread.holdsLock(kernel));
            launches.incrementAndGet();
        }, releases::incrementAndGet);
        r.replay();
        r.replay();
        assertThat(launches).hasValue(2);
        assertThat(locked).as("launched holding the kernel's monitor").isTrue();

        r.close();
        r.close();
        assertThat(releases).hasValue(1);
        assertThatThrownBy(r::replay).isInstanceOf(KernelStateException.class)
                .hasMessage("this captured forward of flashinfer-bf16 was closed; capture another");
        assertThat(launches).hasValue(2);

        GraphReplay other = new GraphReplay(kernel, s, launches::incrementAndGet, releases::incrementAndGet);
        s.beginClose();
        assertThatThrownBy(other::replay).isInstanceOf(KernelStateException.class)
                .hasMessageContaining("flashinfer-bf16");
        assertThat(launches).as("a closed kernel launches nothing").hasValue(2);
    }
}
