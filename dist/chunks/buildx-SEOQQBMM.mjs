import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a,b,c,d}from"./chunk-4YOMMWU5.mjs";import"./chunk-34DERU6C.mjs";import"./chunk-52TPV42D.mjs";import"./chunk-CPS274D3.mjs";import"./chunk-U4CD6YIO.mjs";export{a as buildxArgs,b as buildxEnv,c as parseBuildxMetadata,d as runBuildx};
//# sourceMappingURL=buildx-SEOQQBMM.mjs.map
