/** moe-oracle core: the entry points a host application uses. */
package io.moeoracle.core;
