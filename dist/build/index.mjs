import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as i}from"../chunks/chunk-7K7VVYDH.mjs";import"../chunks/chunk-GP7UNGF5.mjs";import"../chunks/chunk-YNUYU2AI.mjs";import{m as o}from"../chunks/chunk-63SPGKZ7.mjs";import"../chunks/chunk-QWDVHGGL.mjs";import"../chunks/chunk-IGGAYTMR.mjs";import"../chunks/chunk-QJ2A4VD2.mjs";import"../chunks/chunk-52TPV42D.mjs";import"../chunks/chunk-CPS274D3.mjs";import"../chunks/chunk-U4CD6YIO.mjs";o(i);
//# sourceMappingURL=index.mjs.map
