package io.moeoracle.backend.xpu;

import io.moeoracle.api.error.BadInputException;
import io.moeoracle.api.tensor.DType;
import io.moeoracle.api.tensor.DeviceTensor;
import io.moeoracle.api.tensor.HostTensor;
import io.moeoracle.driver.opencl.ClBuffer;
import java.util.Arrays;

/** A tensor in an xpu kernel's OpenCL buffer; copies go through the kernel's queue. */
final class XpuDeviceTensor implements DeviceTensor {
    private final XpuMoeKernel owner;
    private final ClBuffer buffer;
    private final DType dtype;
    private final long[] shape;

    XpuDeviceTensor(XpuMoeKernel owner, ClBuffer buffer, DType dtype, long[] shape) {
        this.owner = owner;
        this.buffer = buffer;
        this.dtype = dtype;
        this.shape = shape.clone();
    }

    XpuMoeKernel owner() {
        return owner;
    }

    ClBuffer buffer() {
        return buffer;
    }

    @Override
    public String deviceId() {
        return buffer.deviceId();
    }

    private void checkHost(HostTensor h, String what) {
        if (h.dtype() != dtype || h.numel() != numel()) {
            throw new BadInputException(what + ": host tensor " + h.dtype() + " " + h.shapeString()
                    + " does not match device tensor " + dtype + " " + shapeString());
        }
    }

    @Override
    public void copyFrom(HostTensor src) {
        checkHost(src, "copyFrom");
        owner.write(buffer, src);
    }

    @Override
    public void copyTo(HostTensor dst) {
        checkHost(dst, "copyTo");
        owner.read(buffer, dst);
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public void close() {
        buffer.close();
    }

    @Override
    public String toString() {
        return "XpuDeviceTensor[" + dtype + " " + Arrays.toString(shape) + " on " + deviceId() + "]";
    }
}
