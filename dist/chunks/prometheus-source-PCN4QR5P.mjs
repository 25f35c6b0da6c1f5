const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b}from"./chunk-TJDTLNR3.mjs";import"./chunk-RGHU57MY.mjs";import"./chunk-ZNW6JA5N.mjs";import"./chunk-DYGYMQCA.mjs";import"./chunk-NBZQSOFD.mjs";import"./chunk-ZDRG5MWC.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{b as lintPlan,a as prometheusSource};
//# sourceMappingURL=prometheus-source-PCN4QR5P.mjs.map
