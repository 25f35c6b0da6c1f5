const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d}from"./chunk-NT53FF7X.mjs";import"./chunk-NBZQSOFD.mjs";import"./chunk-ZDRG5MWC.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as DEFAULT_MAX_RESPONSE_BYTES,d as PrometheusClient,b as PrometheusError,c as singleReading};
//# sourceMappingURL=prometheus-ISNO2FZJ.mjs.map
