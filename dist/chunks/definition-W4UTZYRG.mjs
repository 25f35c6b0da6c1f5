import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a}from"./chunk-V2PZNDXR.mjs";import"./chunk-23WCQCRT.mjs";import"./chunk-HH7TAIDW.mjs";import"./chunk-HFM4N666.mjs";import"./chunk-QWDVHGGL.mjs";import"./chunk-IGGAYTMR.mjs";import"./chunk-NLMWWAMH.mjs";import"./chunk-HQBSRCJ4.mjs";import"./chunk-CPS274D3.mjs";import"./chunk-U4CD6YIO.mjs";export{a as build};
//# sourceMappingURL=definition-W4UTZYRG.mjs.map
