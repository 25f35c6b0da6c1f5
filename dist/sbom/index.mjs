const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a as m}from"../chunks/chunk-5Z77SOT5.mjs";import{w as o}from"../chunks/chunk-AMIMZGCQ.mjs";import"../chunks/chunk-HZC6Q536.mjs";o(m);
//# sourceMappingURL=index.mjs.map
