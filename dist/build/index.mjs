import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as i}from"../chunks/chunk-V2PZNDXR.mjs";import"../chunks/chunk-23WCQCRT.mjs";import"../chunks/chunk-HH7TAIDW.mjs";import{l as o}from"../chunks/chunk-HFM4N666.mjs";import"../chunks/chunk-QWDVHGGL.mjs";import"../chunks/chunk-IGGAYTMR.mjs";import"../chunks/chunk-NLMWWAMH.mjs";import"../chunks/chunk-HQBSRCJ4.mjs";import"../chunks/chunk-CPS274D3.mjs";import"../chunks/chunk-U4CD6YIO.mjs";o(i);
//# sourceMappingURL=index.mjs.map
