/** A small JDK-only JSON parser for {@code config.json} files and safetensors headers. */
package io.moeoracle.core.json;
