const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d}from"./chunk-URLKTCVS.mjs";import"./chunk-6PXAB2ES.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as buildxArgs,b as buildxEnv,c as parseBuildxMetadata,d as runBuildx};
//# sourceMappingURL=buildx-QV2672GV.mjs.map
