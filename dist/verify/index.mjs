const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as r}from"../chunks/chunk-3W327RKD.mjs";import{x as o}from"../chunks/chunk-2YG2VH6L.mjs";import"../chunks/chunk-HZC6Q536.mjs";o(r);
//# sourceMappingURL=index.mjs.map
