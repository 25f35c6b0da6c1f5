import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{e as a,f as b,g as c,h as d,i as e,j as f}from"./chunk-5ZUWCQ7M.mjs";import"./chunk-H22JJL6L.mjs";import"./chunk-Z53FBB75.mjs";import"./chunk-GFPWX7E5.mjs";import"./chunk-G7XAKCW6.mjs";export{c as EMPTY_TRUSTED_ROOT,b as PUBLIC_GOOD_TUF_MIRROR,a as TRUSTED_ROOT_MEDIA_TYPE,f as fetchPublicGoodTrustedRoot,d as readTrustedRoot,e as trustedRootProblem};
//# sourceMappingURL=trusted-root-JYLQVX5G.mjs.map
