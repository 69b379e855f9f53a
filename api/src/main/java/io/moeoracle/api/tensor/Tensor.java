package io.moeoracle.api.tensor;

/**
 * A dense row-major tensor: either host memory ({@link HostTensor}) or an opaque buffer owned by
 * a kernel's device ({@link DeviceTensor}).
 */
public sealed interface Tensor permits HostTensor, DeviceTensor {

    /** @return the element type */
    DType dtype();

    /** @return a copy of the shape */
    long[] shape();

    /** @return the number of dimensions */
    default int rank() {
        return shape().length;
    }

    /**
     * @param i the dimension
     * @return its extent
     */
    default long dim(int i) {
        return shape()[i];
    }

    /** @return the number of elements */
    default long numel() {
        long n = 1;
        for (long d : shape()) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** @return the number of bytes the elements occupy */
    default long byteSize() {
        return Math.multiplyExact(numel(), dtype().byteSize());
    }

    /** @return the shape as text, e.g. {@code [32, 5760, 1440]} */
    default String shapeString() {
        return java.util.Arrays.toString(shape());
    }
}
