const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a}from"./chunk-AEFIH47C.mjs";import"./chunk-ZN65EVML.mjs";import"./chunk-HZC6Q536.mjs";export{a as sbom};
//# sourceMappingURL=definition-PEURXIIU.mjs.map
