/**
 * A small JDK-only JSON parser and writer for {@code config.json} files, safetensors headers and
 * {@code Explanation.toJson()}. Internal: not exported, no compatibility promise.
 */
package io.moeoracle.core.internal.json;
