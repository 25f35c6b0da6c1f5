const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as b}from"./chunk-CUHHZZO7.mjs";import"./chunk-NVNEN5ZT.mjs";import"./chunk-NBZQSOFD.mjs";import"./chunk-TU4BTR7E.mjs";import"./chunk-ZDRG5MWC.mjs";import{ea as a}from"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{b as createRegistryClient,a as loginFromInputs};
//# sourceMappingURL=login-U4OJWF54.mjs.map
