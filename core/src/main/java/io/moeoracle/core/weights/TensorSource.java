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
     * @return the file holding it (for error messages)
     */
    Path fileOf(String name);
}
