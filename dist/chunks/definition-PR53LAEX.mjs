import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a}from"./chunk-7K7VVYDH.mjs";import"./chunk-GP7UNGF5.mjs";import"./chunk-YNUYU2AI.mjs";import"./chunk-63SPGKZ7.mjs";import"./chunk-QWDVHGGL.mjs";import"./chunk-IGGAYTMR.mjs";import"./chunk-QJ2A4VD2.mjs";import"./chunk-52TPV42D.mjs";import"./chunk-CPS274D3.mjs";import"./chunk-U4CD6YIO.mjs";export{a as build};
//# sourceMappingURL=definition-PR53LAEX.mjs.map
