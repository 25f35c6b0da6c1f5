const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b}from"./chunk-6CS5IUAZ.mjs";import"./chunk-UN36QYLA.mjs";import"./chunk-RGCM67FQ.mjs";import"./chunk-D3TPWWLX.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as CANARY_TRAILERS,b as exposureEditor};
//# sourceMappingURL=exposure-3PTT5JXZ.mjs.map
