const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as b}from"./chunk-4ZRKMPWR.mjs";import"./chunk-WNE2APK6.mjs";import"./chunk-NBZQSOFD.mjs";import"./chunk-Y47QAHE2.mjs";import"./chunk-ZDRG5MWC.mjs";import{fa as a}from"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{b as createRegistryClient,a as loginFromInputs};
//# sourceMappingURL=login-YGRTGO6O.mjs.map
