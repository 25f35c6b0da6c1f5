import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a,b,c,d}from"./chunk-TZLWMUL7.mjs";import"./chunk-PJHSKKU2.mjs";import"./chunk-FFJOZKTY.mjs";import"./chunk-LN5BQLAK.mjs";import"./chunk-G7XAKCW6.mjs";export{a as buildxArgs,b as buildxEnv,c as parseBuildxMetadata,d as runBuildx};
//# sourceMappingURL=buildx-CPEWTUVP.mjs.map
