const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b}from"./chunk-J7IEIPLP.mjs";import"./chunk-PGTKI4CN.mjs";import"./chunk-HZC6Q536.mjs";export{a as credentialsFromInputs,b as loginFromInputs};
//# sourceMappingURL=login-inputs-WYCRIL6L.mjs.map
