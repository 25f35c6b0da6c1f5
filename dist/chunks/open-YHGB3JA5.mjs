const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a}from"./chunk-UVCWXYAI.mjs";import"./chunk-TT42AJGJ.mjs";import"./chunk-ITHPVHG7.mjs";import"./chunk-Y47QAHE2.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as openReference};
//# sourceMappingURL=open-YHGB3JA5.mjs.map
