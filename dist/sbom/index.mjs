const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as m}from"../chunks/chunk-AEFIH47C.mjs";import{t as o}from"../chunks/chunk-ZN65EVML.mjs";import"../chunks/chunk-HZC6Q536.mjs";o(m);
//# sourceMappingURL=index.mjs.map
