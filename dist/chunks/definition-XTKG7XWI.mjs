import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a}from"./chunk-VH4CY6GV.mjs";import"./chunk-RR46NJDG.mjs";import"./chunk-56XCE7F6.mjs";import"./chunk-SNVX2FBC.mjs";import"./chunk-3BNLADJE.mjs";import"./chunk-Z53FBB75.mjs";import"./chunk-4VPTKHFW.mjs";import"./chunk-VPAIGLAQ.mjs";import"./chunk-HDIZEJH7.mjs";import"./chunk-7UQ3HCNZ.mjs";import"./chunk-GFPWX7E5.mjs";import"./chunk-G7XAKCW6.mjs";export{a as sbom};
//# sourceMappingURL=definition-XTKG7XWI.mjs.map
