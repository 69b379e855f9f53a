/**
 * Finding kernel backends: {@link io.moeoracle.core.discovery.ProviderRegistry} gathers
 * {@link io.moeoracle.api.MoeKernelProvider}s from class loaders, module layers and explicit
 * bindings, and records the ones that fail to load instead of failing itself.
 */
package io.moeoracle.core.discovery;
