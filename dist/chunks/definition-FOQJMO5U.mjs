import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a}from"./chunk-4BGVOOVV.mjs";import"./chunk-RR46NJDG.mjs";import"./chunk-S2IWGFEF.mjs";import"./chunk-VTSRXYSW.mjs";import"./chunk-ZOXH5SO6.mjs";import"./chunk-U5NMGSK3.mjs";import"./chunk-UBEZB7I6.mjs";import"./chunk-REJRETA6.mjs";import"./chunk-4INDE7AB.mjs";import"./chunk-INLW72HY.mjs";import"./chunk-FFJOZKTY.mjs";import"./chunk-LN5BQLAK.mjs";import"./chunk-G7XAKCW6.mjs";export{a as sbom};
//# sourceMappingURL=definition-FOQJMO5U.mjs.map
