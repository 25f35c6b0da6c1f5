const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b}from"./chunk-MN5F7Z3C.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{a as gitopsLocation,b as openRepository};
//# sourceMappingURL=open-repository-JJJTTNPQ.mjs.map
