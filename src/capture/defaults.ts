// Capture settings shared by `run`, `compare` and the in-process Profiler. Its own file so
// the CLI can read them without loading the capture code.

/**
 * Bytes between samples of the live-at-peak estimate unless the user sets one: small
 * enough for a per-site estimate, large enough that sampling costs little.
 */
export const DEFAULT_PEAK_SAMPLE_INTERVAL = 32768;
