import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as r}from"../chunks/chunk-MAHSF5LJ.mjs";import"../chunks/chunk-DEIU2QZ6.mjs";import"../chunks/chunk-V2OH6JGW.mjs";import"../chunks/chunk-OLWVNQKV.mjs";import"../chunks/chunk-5TFG5ZMN.mjs";import"../chunks/chunk-Z53FBB75.mjs";import{p as o}from"../chunks/chunk-6BX3AQVS.mjs";import"../chunks/chunk-VPAIGLAQ.mjs";import"../chunks/chunk-HDIZEJH7.mjs";import"../chunks/chunk-7UQ3HCNZ.mjs";import"../chunks/chunk-GFPWX7E5.mjs";import"../chunks/chunk-G7XAKCW6.mjs";o(r);
//# sourceMappingURL=index.mjs.map
