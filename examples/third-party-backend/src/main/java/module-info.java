/** An example moe-oracle backend built outside the reactor: BF16 weights, SiLU, no bias, a C kernel. */
module com.example.moe {
    requires io.moeoracle.api;

    provides io.moeoracle.api.MoeKernelProvider with com.example.moe.ExampleBf16Provider;
}
