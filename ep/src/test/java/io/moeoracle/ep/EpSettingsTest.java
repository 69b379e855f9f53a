package io.moeoracle.ep;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The settings' defaults, as the README documents them. */
class EpSettingsTest {

    @Test
    @DisplayName("defaults: 120 s deadline, all-to-all from 1024 tokens, 24 GiB of batches")
    void defaults() {
        assertThat(EpSettings.all()).hasSize(3);
        if (EpSettings.TIMEOUT.value().isEmpty()) {
            assertThat(EpSettings.timeout()).isEqualTo(Duration.ofSeconds(120));
        }
        if (EpSettings.ALL_TO_ALL_MIN_TOKENS.value().isEmpty()) {
            assertThat(EpSettings.allToAllMinTokens()).isEqualTo(1024);
        }
        if (EpSettings.BATCH_BUDGET_MIB.value().isEmpty()) {
            assertThat(EpSettings.batchBudgetBytes()).isEqualTo(24L << 30);
        }
        assertThat(EpSettings.TIMEOUT.env()).contains("MOE_EP_TIMEOUT");
    }
}
