package io.moeoracle.core.weights;

import io.moeoracle.api.tensor.HostTensor;
import java.nio.file.Path;
import java.util.Set;

/** Named tensors read from somewhere: one safetensors file or a multi-file checkpoint. */
public interface TensorSource {

    /** @return every tensor name */
    Set<String> names();

    /**
     * @param name a tensor name
     * @return whether it exists
     */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * @param name a tensor name
     * @return the tensor, a view of the mapped bytes (no copy)
     * @throws SafetensorsException when there is no such tensor
     */
    HostTensor tensor(String name);

    /**
     * @param name a tensor name
     * @return its dtype as the file spells it (e.g. {@code F8_E8M0}, {@code F8_E4M3}), which may be
     *         finer than the {@link io.moeoracle.api.tensor.DType} it is read as
     * @throws SafetensorsException when there is no such tensor
     */
    String fileDtype(String name);

    /**
     * @param name a tensor name
     * @return the file holding it (for error messages)
     */
    Path fileOf(String name);
}
