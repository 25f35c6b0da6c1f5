import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a,b,c,d}from"./chunk-BPLRUCOG.mjs";import"./chunk-WH75VPOL.mjs";import"./chunk-7UQ3HCNZ.mjs";import"./chunk-GFPWX7E5.mjs";import"./chunk-G7XAKCW6.mjs";export{a as buildxArgs,b as buildxEnv,c as parseBuildxMetadata,d as runBuildx};
//# sourceMappingURL=buildx-XQJWX5VL.mjs.map
