/** A configuration problem found at boot. Its message names keys only, never their values. */
export class ConfigError extends Error {}
