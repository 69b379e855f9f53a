/**
 * Choosing a kernel: {@link io.moeoracle.core.select.MoeKernelSelector} (the one selector),
 * {@link io.moeoracle.core.select.SelectionPolicy} (the order providers are tried in),
 * {@link io.moeoracle.core.select.SelectionSettings} (the user's overrides) and
 * {@link io.moeoracle.core.select.Explanation} (every verdict, and the official backends not
 * installed, as data and JSON; the CLI renders tables).
 */
package io.moeoracle.core.select;
