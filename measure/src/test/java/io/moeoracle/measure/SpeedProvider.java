package io.moeoracle.measure;

import io.moeoracle.api.MoeKernel;
import io.moeoracle.api.MoeKernelProvider;
import io.moeoracle.api.SupportVerdict;
import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.api.spec.ActivationType;
import io.moeoracle.api.spec.MoeLayerSpec;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.api.tensor.MoeWeights;
import io.moeoracle.api.tensor.Routing;
import io.moeoracle.api.tensor.Tensor;
import io.moeoracle.reference.ReferenceMoe;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntToLongFunction;

/**
 * A host-side test backend (it claims to run on the device, like a real one) whose forward is the
 * reference's answer (or zeros, when told to be wrong) followed by a busy wait of a controlled
 * length: {@code nanos(T)}.
 */
final class SpeedProvider implements MoeKernelProvider {
    private final String id;
    private final IntToLongFunction nanos;
    private final boolean wrong;
    private final boolean supported;
    final AtomicInteger created = new AtomicInteger();
    final AtomicInteger forwards = new AtomicInteger();

    SpeedProvider(String id, IntToLongFunction nanos, boolean wrong) {
        this(id, nanos, wrong, true);
    }

    SpeedProvider(String id, IntToLongFunction nanos, boolean wrong, boolean supported) {
        this.id = id;
        this.nanos = nanos;
        this.wrong = wrong;
        this.supported = supported;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int priority(MoeLayerSpec spec, DeviceInfo device) {
        return 100;
    }

    @Override
    public ActivationType activationType(MoeLayerSpec spec, DeviceInfo device) {
        return ActivationType.BF16;
    }

    @Override
    public SupportVerdict isSupported(MoeLayerSpec spec, DeviceInfo device) {
        return supported ? SupportVerdict.supported("test backend " + id)
                : SupportVerdict.unsupported("test backend " + id + " runs nothing", "use another");
    }

    @Override
    public MoeKernel create(MoeLayerSpec spec, DeviceInfo device) {
        created.incrementAndGet();
        MoeLayerSpec concrete = spec.toBuilder().quant(spec.quant().withActivations(ActivationType.BF16)).build();
        return new MoeKernel() {
            private MoeWeights weights;

            @Override
            public String providerId() {
                return id;
            }

            @Override
            public MoeLayerSpec spec() {
                return spec;
            }

            @Override
            public DeviceInfo device() {
                return device;
            }

            @Override
            public void prepare(MoeWeights w) {
                weights = w;
            }

            @Override
            public boolean isPrepared() {
                return weights != null;
            }

            @Override
            public void forward(Tensor hidden, Routing routing, Tensor out) {
                forwards.incrementAndGet();
                HostTensor o = (HostTensor) out;
                ReferenceMoe.forward(concrete, weights, (HostTensor) hidden, routing, o);
                if (wrong) {
                    o.data().fill((byte) 0);
                }
                long end = System.nanoTime() + nanos.applyAsLong((int) hidden.dim(0));
                while (System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
            }

            @Override
            public void close() {
            }
        };
    }
}
