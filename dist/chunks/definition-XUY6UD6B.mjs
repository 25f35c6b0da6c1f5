const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c}from"./chunk-L6VZKQZP.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{b as publicKeyInput,c as searchableSources,a as verify};
//# sourceMappingURL=definition-XUY6UD6B.mjs.map
