/// Fakes and harnesses shared by the test suites. Every fake says what it is in its name.
public enum FlotillaTestKit {}
