const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b}from"./chunk-EBZJUIMV.mjs";import"./chunk-KPR4STP5.mjs";import"./chunk-CJBW3CJT.mjs";import"./chunk-D3TPWWLX.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{a as CANARY_TRAILERS,b as exposureEditor};
//# sourceMappingURL=exposure-4QGPX7GG.mjs.map
