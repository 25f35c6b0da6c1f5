const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b}from"./chunk-BIARLPPX.mjs";import"./chunk-IWFGQDHE.mjs";import"./chunk-PGTKI4CN.mjs";import"./chunk-HZC6Q536.mjs";export{a as SIGNING_CONFIG,b as readSigningConfig};
//# sourceMappingURL=signing-config-72AOGCHU.mjs.map
