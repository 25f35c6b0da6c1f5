import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a}from"./chunk-PCUT3HKS.mjs";import"./chunk-RR46NJDG.mjs";import"./chunk-V2OH6JGW.mjs";import"./chunk-OLWVNQKV.mjs";import"./chunk-5TFG5ZMN.mjs";import"./chunk-Z53FBB75.mjs";import"./chunk-6BX3AQVS.mjs";import"./chunk-VPAIGLAQ.mjs";import"./chunk-HDIZEJH7.mjs";import"./chunk-7UQ3HCNZ.mjs";import"./chunk-GFPWX7E5.mjs";import"./chunk-G7XAKCW6.mjs";export{a as sbom};
//# sourceMappingURL=definition-OGLCKU24.mjs.map
