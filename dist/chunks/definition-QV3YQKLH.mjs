const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a}from"./chunk-HFBLVQYI.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{a as evidence};
//# sourceMappingURL=definition-QV3YQKLH.mjs.map
