// Slipway's version, as package.json says; esbuild writes it in at build time (scripts/build.mjs). Code run
// from source, as in unit tests, says "dev".
declare const __SLIPWAY_VERSION__: string | undefined;

export const SLIPWAY_VERSION: string = typeof __SLIPWAY_VERSION__ === 'string' ? __SLIPWAY_VERSION__ : 'dev';
