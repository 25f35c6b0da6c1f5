const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a}from"./chunk-DIZXOJ6J.mjs";import"./chunk-TKSSD3VK.mjs";import"./chunk-ITHPVHG7.mjs";import"./chunk-TU4BTR7E.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{a as openReference};
//# sourceMappingURL=open-I5Q2NGOB.mjs.map
