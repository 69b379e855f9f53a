package io.moeoracle.ep;

import io.moeoracle.api.device.DeviceInfo;
import io.moeoracle.core.select.Selection;
import java.util.Optional;

/**
 * What one rank runs.
 *
 * @param rank the rank
 * @param device its GPU
 * @param standard the selection of its standard-format kernel (all-gather strategy), if built
 * @param batched the selection of its batched-format kernel (all-to-all strategy), if built
 */
public record EpRankInfo(int rank, DeviceInfo device, Optional<Selection> standard, Optional<Selection> batched) {
}
