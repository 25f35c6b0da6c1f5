import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as m}from"../chunks/chunk-4BGVOOVV.mjs";import"../chunks/chunk-RR46NJDG.mjs";import"../chunks/chunk-S2IWGFEF.mjs";import"../chunks/chunk-VTSRXYSW.mjs";import"../chunks/chunk-ZOXH5SO6.mjs";import"../chunks/chunk-U5NMGSK3.mjs";import{p as o}from"../chunks/chunk-UBEZB7I6.mjs";import"../chunks/chunk-REJRETA6.mjs";import"../chunks/chunk-4INDE7AB.mjs";import"../chunks/chunk-INLW72HY.mjs";import"../chunks/chunk-FFJOZKTY.mjs";import"../chunks/chunk-LN5BQLAK.mjs";import"../chunks/chunk-G7XAKCW6.mjs";o(m);
//# sourceMappingURL=index.mjs.map
