const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c}from"./chunk-3W327RKD.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{b as publicKeyInput,c as searchableSources,a as verify};
//# sourceMappingURL=definition-6TAXYWY3.mjs.map
