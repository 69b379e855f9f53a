package io.moeoracle.driver.hip;

import io.moeoracle.api.device.DeviceFeatures;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AMD GPU architecture names as the HIP runtime reports them ({@code gcnArchName}, e.g.
 * {@code gfx942:sramecc+:xnack-}) and the feature flags this project derives from them (the same
 * flags as the simulated devices: {@code bf16}, {@code mfma}, {@code fp8} with {@code fp8_fnuz} on
 * gfx940-942 or {@code fp8_ocp} on gfx950, {@code fp4}/{@code fp6} on gfx950).
 */
public final class HipArch {
    private static final Pattern GFX = Pattern.compile("gfx[0-9a-f]{2,4}");

    private HipArch() {
    }

    /**
     * @param gcnArchName the runtime's name, with or without target features
     * @return the processor alone, e.g. {@code gfx942}
     * @throws IllegalArgumentException when the text names no gfx processor
     */
    public static String processor(String gcnArchName) {
        String t = gcnArchName.trim().toLowerCase(Locale.ROOT);
        int colon = t.indexOf(':');
        String head = colon < 0 ? t : t.substring(0, colon);
        if (!GFX.matcher(head).matches()) {
            throw new IllegalArgumentException("'" + gcnArchName + "' is not an AMD GPU architecture name (gfxNNN)");
        }
        return head;
    }

    /**
     * @param text any text, e.g. the bytes of a device-properties struct read as characters
     * @return the first {@code gfx...} architecture name in it (with its target features), or empty
     */
    static java.util.Optional<String> find(String text) {
        Matcher m = Pattern.compile("gfx[0-9a-f]{2,4}(:[a-z0-9+-]+)*").matcher(text);
        return m.find() ? java.util.Optional.of(m.group()) : java.util.Optional.empty();
    }

    /**
     * @param processor e.g. {@code gfx942}
     * @return the feature flags of that processor
     */
    public static Set<String> features(String processor) {
        Set<String> f = new LinkedHashSet<>();
        switch (processor) {
            case "gfx90a" -> f.addAll(Set.of(DeviceFeatures.BF16, DeviceFeatures.MFMA));
            case "gfx940", "gfx941", "gfx942" -> f.addAll(Set.of(DeviceFeatures.BF16, DeviceFeatures.MFMA,
                    DeviceFeatures.FP8, DeviceFeatures.FP8_FNUZ));
            case "gfx950" -> f.addAll(Set.of(DeviceFeatures.BF16, DeviceFeatures.MFMA, DeviceFeatures.FP8,
                    DeviceFeatures.FP8_OCP, DeviceFeatures.FP4, DeviceFeatures.FP6));
            default -> {
                if (processor.startsWith("gfx12")) {
                    // RDNA4 WMMA, no MFMA
                    f.addAll(Set.of(DeviceFeatures.BF16, DeviceFeatures.FP8, DeviceFeatures.FP8_OCP));
                } else if (processor.startsWith("gfx11")) {
                    f.add(DeviceFeatures.BF16);
                }
            }
        }
        return Set.copyOf(f);
    }

    /**
     * @param processor e.g. {@code gfx942}
     * @return the wave size kernels run with: 64 on CDNA (gfx9), 32 on RDNA (gfx10+)
     */
    public static int waveSize(String processor) {
        return processor.startsWith("gfx9") ? 64 : 32;
    }
}
