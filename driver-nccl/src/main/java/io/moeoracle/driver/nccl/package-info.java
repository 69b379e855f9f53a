/**
 * A small typed facade over NCCL. Start at {@link io.moeoracle.driver.nccl.Nccl}: {@code Nccl.isAvailable()}
 * / {@code unavailabilityCause()} say whether NCCL can be used here (decided once, by calling
 * {@code ncclGetVersion}). {@link io.moeoracle.driver.nccl.NcclCommunicator#initAll} makes one
 * communicator over several GPUs of this JVM, {@link io.moeoracle.driver.nccl.NcclCommunicator#initRank}
 * joins one as a single rank (one rank per process, the {@link io.moeoracle.driver.nccl.NcclUniqueId}
 * handed over by the host). Communicators are non-blocking, so every wait has a deadline and ends in
 * {@code ncclCommAbort} rather than a hang. Every failed call throws
 * {@link io.moeoracle.driver.nccl.NcclException} naming the call, its arguments, NCCL's error text and
 * its last error message.
 */
package io.moeoracle.driver.nccl;
