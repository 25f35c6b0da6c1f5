import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as i}from"../chunks/chunk-G4PPOO6N.mjs";import"../chunks/chunk-56XCE7F6.mjs";import"../chunks/chunk-SNVX2FBC.mjs";import"../chunks/chunk-3BNLADJE.mjs";import"../chunks/chunk-Z53FBB75.mjs";import{q as o}from"../chunks/chunk-4VPTKHFW.mjs";import"../chunks/chunk-VPAIGLAQ.mjs";import"../chunks/chunk-HDIZEJH7.mjs";import"../chunks/chunk-7UQ3HCNZ.mjs";import"../chunks/chunk-GFPWX7E5.mjs";import"../chunks/chunk-G7XAKCW6.mjs";o(i);
//# sourceMappingURL=index.mjs.map
