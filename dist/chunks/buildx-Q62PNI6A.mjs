const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d}from"./chunk-WVGYPBHZ.mjs";import"./chunk-J6KKNTUP.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{a as buildxArgs,b as buildxEnv,c as parseBuildxMetadata,d as runBuildx};
//# sourceMappingURL=buildx-Q62PNI6A.mjs.map
