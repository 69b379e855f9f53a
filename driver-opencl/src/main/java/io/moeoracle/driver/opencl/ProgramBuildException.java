package io.moeoracle.driver.opencl;

/**
 * clBuildProgram failed; {@link #buildLog()} holds the compiler's log for the device, which the
 * message also carries.
 */
public final class ProgramBuildException extends OpenClException {
    private final String buildLog;

    /**
     * @param call the call and its arguments
     * @param code the cl_int code
     * @param buildLog the device compiler's log
     */
    public ProgramBuildException(String call, int code, String buildLog) {
        super(call, code, "build log:\n" + buildLog);
        this.buildLog = buildLog;
    }

    /** @return the device compiler's log */
    public String buildLog() {
        return buildLog;
    }
}
